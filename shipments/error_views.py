"""The site's 403, 404 and 500 pages (`handler403/404/500` in `resync_site.urls`).

Styled like the merchant app, each with a way back to the Shipment tab. The public tracking pages
answer their own 404 (`tracking.security`) and the API its own errors (`connect.api.errors`), so
these only meet merchant pages and stray URLs. A 404 for a shipment of another store the user is a
member of offers to switch to that store (`scoping.InAnotherOfYourStores`); anybody else gets the
plain 404. The 500 page renders without a request context (Django gives it none).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from .responses import wants_json
from .scoping import InAnotherOfYourStores


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": _("Not found.")}, status=404)
    context = {"request_path": request.path}
    if isinstance(exception, InAnotherOfYourStores):
        context |= {"other_store": exception.store, "next": request.path}
    return render(request, "404.html", context, status=404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": _("Forbidden.")}, status=403)
    return render(request, "403.html", {}, status=403)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered with an empty context: nothing here may need the request, a user or the DB."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)
