"""The public lookup: by order number and e-mail (the form), by tracking number alone, and the
store-branded lookup page (`?store=<slug>`, its stylesheet). Thin views over the selectors
(docs/contract.md §5, §10)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from resync_site.languages import use_store_language
from shipments.messages import humanize_wait
from shipments.models import Store
from shipments.responses import client_ip, wants_json

from . import limits
from .estimates import estimate_payload, unshipped_estimate
from .forms import LookupForm, NumberLookupForm
from .presenters import language_switcher, lookup_branding, parcel_context, parcel_payload
from .responses import found as _found
from .responses import fresh as _fresh
from .responses import see_other as _see_other
from .safety import theme_css
from .security import public_page
from .selectors import (
    order_lookup,
    order_number_key,
    shipment_for_tracking_number,
    store_for_lookup,
    tracking_number_key,
)

logger = logging.getLogger(__name__)

# --- Lookup ---------------------------------------------------------------------------------------


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    message = _("Too many lookups. Please try again in %(wait)s.") % {"wait": humanize_wait(wait)}
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": message, "retry_after": wait}, status=429)
    else:
        response = render(
            request, "tracking/too_many.html", {"message": message, "retry_after": wait}, status=429
        )
    response["Retry-After"] = str(wait)
    return response


def _lookup_data(request: HttpRequest) -> dict[str, str]:
    """The submitted fields; `order` is accepted for `order_number` (short links, store widgets)."""
    source = request.POST if request.method == "POST" else request.GET
    fields = ("order_number", "email", "store", "tracking_number")
    data = {key: source[key] for key in fields if key in source}
    if "order_number" not in data and "order" in source:
        data["order_number"] = source["order"]
    return data


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """`GET /track/` shows the form; the form POSTs (with CSRF) to the same URL. A GET that
    carries both `order_number` and `email` looks up too (for a store's own "track" box).

    `?store=<slug>` narrows the lookup to that store and brands the page with it; an unknown
    slug is the plain page, looking in every store. `?tracking_number=…` (without an order
    number) is the lookup by number alone (docs/contract.md §10)."""
    data = _lookup_data(request)
    if "tracking_number" in data and "order_number" not in data:
        return _number_lookup(request, data)
    if request.method != "POST" and not ("order_number" in data and "email" in data):
        form = LookupForm(initial={k: data[k] for k in ("order_number", "store") if k in data})
        return _fresh(_lookup_page(request, store_for_lookup(data.get("store", "")), form=form))

    try:
        wait = limits.lookup_wait(
            request,
            ip=client_ip(request),
            order_key=order_number_key(data.get("order_number", ""))[:80],
        )
    except limits.LimitsUnavailable:
        logger.warning("lookup rate limits unavailable: serving without them")
        wait = 0
    if wait:
        return _fresh(_too_many(request, wait))

    form = LookupForm(data)
    if not form.is_valid():
        if wants_json(request):
            return _fresh(
                JsonResponse(
                    {"error": _("Please correct the form."), "fields": form.errors.get_json_data()},
                    status=400,
                )
            )
        return _fresh(
            _lookup_page(request, store_for_lookup(data.get("store", "")), form=form, status=400)
        )

    # Found or not, the same two reads (the store when one is named, then the order).
    store = store_for_lookup(form.cleaned_data.get("store") or "")
    if store is not None:
        use_store_language(request, store.default_language)
    match = order_lookup(
        order_number=form.cleaned_data["order_number"],
        email=form.cleaned_data["email"],
        store=store,
    )
    if match is None:
        message = _(
            "We could not find an order with this order number and e-mail address. "
            "Please check both and try again."
        )
        if wants_json(request):
            return _fresh(JsonResponse({"error": message}, status=404))
        return _fresh(_lookup_page(request, store, form=form, status=404, not_found=message))
    if match.token is None:
        estimate = unshipped_estimate(rule=match.delivery_rule, placed_at=match.placed_at)
        if wants_json(request):
            body = {"tracking_url": None, "shipped": False, **estimate_payload(estimate)}
            return _fresh(JsonResponse(body))
        context = {"match": match, "estimate": estimate}
        return _fresh(render(request, "tracking/not_shipped.html", context))
    url = reverse("tracking:page", args=[match.token])
    if wants_json(request):
        return _fresh(JsonResponse({"tracking_url": request.build_absolute_uri(url)}))
    return _see_other(url)


NUMBER_FORM_IDS = "id_number_%s"  # the lookup page holds both forms: ids of their own


def _lookup_page(
    request: HttpRequest,
    store: Store | None,
    *,
    form: LookupForm | None = None,
    number_form: NumberLookupForm | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The lookup page (both forms), branded for `?store=` when it names a store, with the
    language switcher, in the store's language unless the shopper chose one."""
    if store is not None:
        use_store_language(request, store.default_language)
    initial = {"store": store.slug if store else ""}
    context = {
        "languages": language_switcher(request),
        "form": form or LookupForm(initial=initial),
        "number_form": number_form or NumberLookupForm(auto_id=NUMBER_FORM_IDS, initial=initial),
        **lookup_branding(store),
        **extra,
    }
    return render(request, "tracking/lookup.html", context, status=status)


def _number_lookup(request: HttpRequest, data: dict[str, str]) -> HttpResponse:
    """`/track/?tracking_number=…`: the parcel's status and scans without its order (no order
    number, no e-mail, no link to the token page). Rate-limited as the order lookup; not found
    is the lookup page's "not found", as for an order."""
    try:
        wait = limits.number_lookup_wait(
            request,
            ip=client_ip(request),
            number_key=tracking_number_key(data.get("tracking_number", ""))[:80],
        )
    except limits.LimitsUnavailable:
        logger.warning("lookup rate limits unavailable: serving without them")
        wait = 0
    if wait:
        return _fresh(_too_many(request, wait))
    form = NumberLookupForm(data, auto_id=NUMBER_FORM_IDS)
    if not form.is_valid():
        if wants_json(request):
            body = {"error": _("Please correct the form."), "fields": form.errors.get_json_data()}
            return _fresh(JsonResponse(body, status=400))
        return _fresh(
            _lookup_page(
                request, store_for_lookup(data.get("store", "")), number_form=form, status=400
            )
        )
    # The store when one is named, then the shipment; its scans when found.
    store = store_for_lookup(form.cleaned_data.get("store") or "")
    shipment = shipment_for_tracking_number(
        tracking_number=form.cleaned_data["tracking_number"], store=store
    )
    if shipment is None:
        message = _(
            "We could not find a parcel with this tracking number. Please check it and try again."
        )
        if wants_json(request):
            return _fresh(JsonResponse({"error": message}, status=404))
        return _fresh(_lookup_page(request, store, number_form=form, status=404, not_found=message))
    use_store_language(request, shipment.store.default_language)
    context = parcel_context(shipment)
    if wants_json(request):
        return _fresh(JsonResponse(parcel_payload(context)))
    context["languages"] = language_switcher(request)
    return _fresh(render(request, "tracking/parcel.html", context))


@public_page
@require_safe
def store_theme(request: HttpRequest, slug: str) -> HttpResponse:
    """The lookup page's stylesheet for `?store=<slug>` (as `theme` is the tracking page's)."""
    store = _found(store_for_lookup(slug))
    response = HttpResponse(theme_css(store.accent_color), content_type="text/css")
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- Tracking page --------------------------------------------------------------------------------
