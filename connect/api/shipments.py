"""`/api/v1/shipments/…`: list, create, details and resyncs of the key's store's shipments.

Each endpoint reads with a selector or asks one service, then shapes with the merchant app's
presenters, so the API's JSON is the Shipment tab's. Another store's ids answer 404.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from connect import selectors
from resync_site import converters  # noqa: F401  (registers the <id:…> path converter)
from shipments import cooldowns, presenters, services
from shipments import selectors as shipment_selectors
from shipments.messages import UNAVAILABLE
from shipments.models import RequestSource, Shipment, Store
from shipments.redis_client import RedisUnavailable
from shipments.responses import client_ip
from shipments.services import Incoming, ResyncVerdict
from shipments.windows import BadWindow

from .errors import ApiError
from .schemas import (
    BulkResyncIn,
    CarrierChangeIn,
    ErrorOut,
    JobAccepted,
    RunAccepted,
    ShipmentDetailOut,
    ShipmentFilters,
    ShipmentIn,
    ShipmentOut,
    ShipmentPage,
)

router = Router(tags=["Shipments"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 429: ErrorOut}
NOT_FOUND = {404: ErrorOut}
REFUSALS = {503: ErrorOut}


def _store(request: HttpRequest) -> Store:
    return request.auth.store  # the key's store (see auth.ApiKeyAuth)


def _shipment(request: HttpRequest, shipment_id: int) -> Shipment:
    shipment = selectors.shipment_for_store(store=_store(request), shipment_id=shipment_id)
    if shipment is None:
        raise ApiError(404, "No such shipment.")
    return shipment


def _payload(request: HttpRequest, shipment: Shipment) -> dict[str, Any]:
    return presenters.shipment_payload(
        shipment, tracking_url=request.build_absolute_uri(shipment.get_tracking_url())
    )


def _page_url(request: HttpRequest, page: int | None) -> str | None:
    if page is None:
        return None
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _verdict(ask: Any) -> ResyncVerdict:
    """The accepted verdict, or the refusal raised: 503 when Redis or the broker is down, 429
    while cooling down or a run is in progress (the merchant app's answers)."""
    try:
        verdict = ask()
    except RedisUnavailable:
        raise ApiError(
            503, str(UNAVAILABLE), code="unavailable", retry_after=RedisUnavailable.retry_after
        ) from None
    if not verdict.accepted:
        raise ApiError(
            429,
            verdict.message,
            code=verdict.reason or "cooldown",
            retry_after=max(1, verdict.retry_after),
        )
    return verdict


@router.get("/shipments/", response={200: ShipmentPage, **ERRORS}, url_name="shipments")
def shipment_list(request: HttpRequest, filters: Query[ShipmentFilters]) -> dict[str, Any]:
    """The store's shipments, newest shipped first, `page_size` (≤ 100) a page."""
    updated_since = filters.updated_since
    if updated_since is not None and timezone.is_naive(updated_since):
        updated_since = timezone.make_aware(updated_since, dt.UTC)
    queryset = selectors.api_shipments_for_store(
        store=_store(request),
        filters=shipment_selectors.ShipmentFilters(
            status=filters.status or "",
            carrier=filters.carrier or "",
            search=filters.q or "",
        ),
        updated_since=updated_since,
    )
    paginator = Paginator(queryset, filters.page_size)
    count = paginator.count
    if filters.page <= paginator.num_pages and count:
        page = paginator.page(filters.page)
        rows = list(page.object_list)
        next_page = page.next_page_number() if page.has_next() else None
    else:
        rows, next_page = [], None
    previous = min(filters.page - 1, paginator.num_pages) if filters.page > 1 and count else None
    return {
        "count": count,
        "next": _page_url(request, next_page),
        "previous": _page_url(request, previous),
        "results": [_payload(request, s) for s in rows],
    }


@router.post("/shipments/", response={200: ShipmentOut, 201: ShipmentOut, **ERRORS})
def shipment_create(request: HttpRequest, payload: ShipmentIn) -> Status:
    """Create a shipment (201), or find the same (carrier, tracking number) again (200, same
    `id`): sending a shipment twice is safe. Its first pull from the carrier starts at once."""
    store = _store(request)
    shipped_at = payload.shipped_at
    if shipped_at is not None and timezone.is_naive(shipped_at):
        shipped_at = timezone.make_aware(shipped_at, zoneinfo.ZoneInfo(store.time_zone))
    result = services.shipments_ingest(
        store=store,
        rows=[
            Incoming(
                order_number=payload.order_number,
                email=payload.email,
                tracking_number=payload.tracking_number,
                carrier=payload.carrier or "",
                shipped_at=shipped_at,
            )
        ],
        first_pull="chunks",
        source=RequestSource.API,
    )
    shipment = selectors.shipment_for_store(store=store, shipment_id=result.shipments[0].pk)
    status = 201 if shipment.pk in result.created else 200
    return Status(status, _payload(request, shipment))


@router.post(
    "/shipments/resync/",
    response={202: RunAccepted, **ERRORS, **REFUSALS},
    url_name="bulk_resync",
)
def shipment_bulk_resync(request: HttpRequest, payload: BulkResyncIn) -> Status:
    """Resync the store's shipments shipped in a window: once an hour, shared with the merchant
    app's Resync menu; never while a run is in progress."""
    store = _store(request)

    def ask() -> ResyncVerdict:
        try:
            return services.store_bulk_resync(
                store=store,
                window=payload.window,
                source=RequestSource.API,
                ip_address=client_ip(request),
            )
        except BadWindow as exc:
            raise ApiError(
                400,
                "Please correct the fields.",
                code="validation_error",
                fields={"window": [str(exc)]},
            ) from None

    verdict = _verdict(ask)
    run = verdict.run
    return Status(
        202,
        {
            "run": run.pk,
            "state": "queued",
            "total": run.total,
            "status_url": reverse("merchant_api:sync_run", args=[run.pk]),
            "retry_after": verdict.retry_after,
        },
    )


@router.get(
    "/shipments/{id:shipment_id}/",
    response={200: ShipmentDetailOut, **ERRORS, **NOT_FOUND},
    url_name="shipment",
)
def shipment_detail(request: HttpRequest, shipment_id: int) -> dict[str, Any]:
    """One shipment with its events (newest first) and when it can be resynced."""
    shipment = _shipment(request, shipment_id)
    try:
        retry_after = cooldowns.shipment_retry_after(shipment.store_id, shipment.pk)
    except RedisUnavailable:
        retry_after = 0  # the details still answer; a resync would answer 503
    payload = presenters.shipment_detail_payload(
        shipment,
        events=shipment_selectors.shipment_events(shipment=shipment),
        tracking_url=request.build_absolute_uri(shipment.get_tracking_url()),
        retry_after=retry_after,
    )
    return {
        **payload,
        "resync_url": reverse("merchant_api:resync", args=[shipment.pk]),
        "carrier_change_url": reverse("merchant_api:carrier", args=[shipment.pk]),
    }


@router.post(
    "/shipments/{id:shipment_id}/resync/",
    response={202: JobAccepted, **ERRORS, **NOT_FOUND, **REFUSALS},
    url_name="resync",
)
def shipment_resync(request: HttpRequest, shipment_id: int) -> Status:
    """Pull one shipment from its carrier now: once per 5 minutes, shared with the merchant app
    and the tracking page. Poll `status_url` for the outcome."""
    shipment = _shipment(request, shipment_id)
    verdict = _verdict(
        lambda: services.shipment_resync(
            shipment=shipment, source=RequestSource.API, ip_address=client_ip(request)
        )
    )
    job = verdict.job
    return Status(
        202,
        {
            "job": str(job.pk),
            "state": "queued",
            "status_url": reverse("merchant_api:job", args=[job.pk]),
            "retry_after": verdict.retry_after,
        },
    )


@router.post(
    "/shipments/{id:shipment_id}/carrier/",
    response={202: JobAccepted, **ERRORS, **NOT_FOUND, **REFUSALS},
    url_name="carrier",
)
def shipment_carrier(request: HttpRequest, shipment_id: int, payload: CarrierChangeIn) -> Status:
    """Correct the shipment's carrier (and tracking number): it is pulled from the new carrier at
    once, even during its cooldown, which starts again; the old carrier's events go."""
    shipment = _shipment(request, shipment_id)

    def ask() -> ResyncVerdict:
        try:
            return services.shipment_correct(
                shipment=shipment,
                carrier=payload.carrier,
                tracking_number=payload.tracking_number,
                source=RequestSource.CORRECTION,
                ip_address=client_ip(request),
            )
        except services.BadCorrection as exc:
            raise ApiError(
                400,
                "Please correct the fields.",
                code="validation_error",
                fields={exc.field: [str(exc)]},
            ) from None
        except services.TrackingNumberTaken:
            message = "Another shipment of this store already has that carrier and number."
            raise ApiError(
                400, message, code="validation_error", fields={"tracking_number": [message]}
            ) from None

    verdict = _verdict(ask)
    return Status(
        202,
        {
            "job": str(verdict.job.pk),
            "state": "queued",
            "status_url": reverse("merchant_api:job", args=[verdict.job.pk]),
            "retry_after": verdict.retry_after,
        },
    )
