"""Carrier correction in the merchant app (docs/contract.md §7): one shipment's carrier (and
number) from its details page, or one carrier for shipments selected on the Shipment tab.

HTML by default (303 back with a message), JSON for `Accept: application/json`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from resync_site.jsonbody import BadJSON, parse_json

from . import presenters, services
from .models import RequestSource
from .redis_client import RedisUnavailable
from .responses import client_ip, json_error, posted_field, unavailable, wants_json
from .scoping import merchant_view
from .views import get_shipment


def _bad(request: HttpRequest, exc: Exception, field: str, back: str) -> HttpResponse:
    message = str(exc)
    if wants_json(request):
        return json_error(message, 400, fields={field: [message]})
    messages.error(request, message)
    return redirect(back)


@merchant_view
@require_POST
def shipment_carrier(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """`POST /app/shipments/<id>/carrier/` (`carrier`, optional `tracking_number`): 202 with a
    job to poll; the pull starts at once, even during the cooldown (which starts again)."""
    shipment = get_shipment(request, shipment_id)
    back = shipment.get_absolute_url()
    try:
        verdict = services.shipment_correct(
            shipment=shipment,
            carrier=posted_field(request, "carrier"),
            tracking_number=posted_field(request, "tracking_number"),
            source=RequestSource.CORRECTION,
            user=request.user,
            ip_address=client_ip(request),
        )
    except services.BadCorrection as exc:
        return _bad(request, exc, exc.field, back)
    except services.TrackingNumberTaken:
        message = _("Another shipment of this store already has that carrier and number.")
        return _bad(request, ValueError(message), "tracking_number", back)
    except RedisUnavailable:
        return unavailable(request, back=back)
    if wants_json(request):
        return JsonResponse(presenters.job_accepted_payload(shipment, verdict), status=202)
    messages.success(
        request,
        _("Carrier changed to %(carrier)s. Asking it for the latest info now.")
        % {"carrier": shipment.carrier_label},
    )
    return redirect(back, permanent=False)


def _selected_ids(request: HttpRequest) -> list[int]:
    """`ids` of a form post (repeated field) or of a JSON body (a list); junk is dropped."""
    raw: list[object] = list(request.POST.getlist("ids"))
    if not raw and request.content_type == "application/json":
        try:
            body = parse_json(request.body or b"{}")
        except BadJSON:
            body = {}
        value = body.get("ids") if isinstance(body, dict) else None
        raw = value if isinstance(value, list) else []
    ids = []
    for value in raw[: services.MAX_BULK_CORRECTION + 1]:
        text = str(value)
        if text.isascii() and text.isdigit() and len(text) < 12:
            ids.append(int(text))
    return ids


@merchant_view
@require_POST
def shipments_carrier(request: HttpRequest) -> HttpResponse:
    """`POST /app/shipments/carrier/` (`carrier`, `ids` — the selected shipments): one carrier
    for all of them; each is pulled from it in the background."""
    back = request.POST.get("next") or reverse("shipments:list")
    if not back.startswith("/app/shipments/"):
        back = reverse("shipments:list")
    ids = _selected_ids(request)
    try:
        changed = services.shipments_set_carrier(
            store_id=request.store.pk,
            shipment_ids=ids,
            carrier=posted_field(request, "carrier"),
            user=request.user,
        )
    except services.BadCorrection as exc:
        return _bad(request, exc, exc.field, back)
    if wants_json(request):
        return JsonResponse({"changed": changed})
    messages.success(
        request,
        ngettext(
            "%(count)d shipment now uses this carrier; it is being pulled.",
            "%(count)d shipments now use this carrier; they are being pulled.",
            changed,
        )
        % {"count": changed},
    )
    return redirect(back)
