"""The merchant's settings pages: the store's own names for carriers.

HTML by default, JSON for `Accept: application/json` (and a JSON body for scripted posts).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import presenters, selectors, services
from .responses import json_error, posted_field, wants_json
from .scoping import merchant_view


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def carrier_names(request: HttpRequest) -> HttpResponse:
    """The store's names for carriers (what its shop calls them): list, and add or replace one."""
    store = request.store
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        name, carrier = posted_field(request, "name"), posted_field(request, "carrier")
        try:
            mapping = services.store_carrier_mapping_set(store=store, name=name, carrier=carrier)
        except ValidationError as exc:
            errors = exc.message_dict
            if wants_json(request):
                return json_error(_("Please correct the form."), 400, fields=errors)
        else:
            if wants_json(request):
                return JsonResponse(presenters.carrier_mapping_payload(mapping), status=201)
            messages.success(
                request,
                _("%(name)s now means %(carrier)s.")
                % {"name": mapping.name, "carrier": mapping.get_carrier_display()},
            )
            return redirect("shipments:carrier_names")
    mappings = selectors.carrier_mappings_for_store(store=store)
    if wants_json(request):
        return JsonResponse({"results": [presenters.carrier_mapping_payload(m) for m in mappings]})
    context = {
        "store": store,
        "mappings": mappings,
        "carrier_choices": presenters.carrier_choices(with_needs_carrier=False),
        "errors": errors,
        "posted": request.POST if errors else {},
    }
    return render(request, "shipments/carrier_names.html", context, status=400 if errors else 200)


@merchant_view
@require_POST
def carrier_name_delete(request: HttpRequest, mapping_id: int) -> HttpResponse:
    """Forget one of the store's names (another store's answers 404)."""
    if not services.store_carrier_mapping_delete(store=request.store, mapping_id=mapping_id):
        raise Http404(_("No such carrier name."))
    if wants_json(request):
        return HttpResponse(status=204)
    messages.success(request, _("The carrier name was removed."))
    return redirect(reverse("shipments:carrier_names"))
