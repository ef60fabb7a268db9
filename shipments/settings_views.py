"""The merchant's settings pages: the store's own names for carriers, its delivery rule.

HTML by default, JSON for `Accept: application/json` (and a JSON body for scripted posts).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from resync_site.jsonbody import parse_json

from . import presenters, selectors, services
from .responses import json_error, posted_field, unreadable_json, wants_json
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


def _delivery_input(request: HttpRequest) -> dict[str, Any]:
    """The posted rule: every field from the form; from a JSON body, the keys it has over the
    current rule."""
    store = request.store
    current = presenters.delivery_rule_payload(store)
    if request.content_type == "application/json":
        body = parse_json(request.body or b"{}")
        sent = {key: body[key] for key in current if isinstance(body, dict) and key in body}
        values = {**current, **sent}
        if not isinstance(values["transit_by_carrier"], dict):
            values["transit_by_carrier"] = {"?": ""}  # refused by the service, by field
    else:
        values = {
            "processing_days": request.POST.get("processing_days", ""),
            "transit_days": request.POST.get("transit_days", ""),
            "transit_by_carrier": {
                code: request.POST.get(f"transit_{code}", "")
                for code, _label in presenters.carrier_choices(with_needs_carrier=False)
            },
            "business_days": request.POST.getlist("business_days"),
            "cutoff": request.POST.get("cutoff", ""),
        }
    return {
        "processing_days": values["processing_days"],
        "transit_days": values["transit_days"] if isinstance(values["transit_days"], str) else "?",
        "transit_by_carrier": values["transit_by_carrier"],
        "business_days": values["business_days"],
        "cutoff": values["cutoff"],
    }


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def delivery_rule(request: HttpRequest) -> HttpResponse:
    """The store's delivery rule: what the tracking page estimates when the carrier gives no
    date (processing and transit days, business days, cut-off time)."""
    store = request.store
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {}
    if request.method == "POST":
        if unreadable_json(request):
            return json_error(_("The request body is not valid JSON."), 400)
        posted = _delivery_input(request)
        try:
            services.store_delivery_rule_set(store=store, **posted)
        except ValidationError as exc:
            errors = exc.message_dict
            if wants_json(request):
                return json_error(_("Please correct the form."), 400, fields=errors)
        else:
            if wants_json(request):
                return JsonResponse(presenters.delivery_rule_payload(store))
            messages.success(request, _("The delivery rule was saved."))
            return redirect("shipments:delivery_rule")
    rule = presenters.delivery_rule_payload(store)
    if wants_json(request):
        return JsonResponse(rule)
    if errors:
        overrides = posted["transit_by_carrier"]
        rule = {
            **rule,
            **posted,
            "business_days": "".join(str(d) for d in posted["business_days"]),
            "transit_by_carrier": overrides if isinstance(overrides, dict) else {},
        }
    carriers = [
        (code, label, rule["transit_by_carrier"].get(code, ""))
        for code, label in presenters.carrier_choices(with_needs_carrier=False)
    ]
    context = {
        "store": store,
        "rule": rule,
        "carriers": carriers,
        "weekdays": presenters.weekday_choices(),
        "errors": errors,
    }
    return render(request, "shipments/delivery_rule.html", context, status=400 if errors else 200)
