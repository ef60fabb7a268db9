"""The site's 400, 403, 404 and 500 pages (`handler400/403/404/500` in `resync_site.urls`) and the
CSRF failure page (`CSRF_FAILURE_VIEW`); JSON for clients that ask for it (SPEC §10).

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
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refused before any view (a bad Host header, a body over the size cap, a
    malformed multipart body): one short page or JSON, never a traceback."""
    message = _("The request could not be read. Check what was sent and try again.")
    if wants_json(request):
        return JsonResponse({"error": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """`CSRF_FAILURE_VIEW`: the form was stale or posted from elsewhere (Django's reason stays in
    its log line, not on the page)."""
    message = _(
        "This form has expired or was sent from another site. Reload the page and try again."
    )
    if wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered with an empty context: nothing here may need a user or the DB. The page's inline
    styles carry the CSP nonce of this response."""
    if wants_json(request):
        return JsonResponse({"error": _("Something went wrong on our side.")}, status=500)
    # Reading the lazy nonce is what makes the middleware put it into this response's policy.
    nonce = getattr(request, "csp_nonce", None)
    html = loader.get_template("500.html").render(
        {"csp_nonce": str(nonce) if nonce is not None else ""}
    )
    return HttpResponse(html, status=500)
