"""DHL Shipment Tracking – Unified API: one GET per number, API key in a header.

Parse half (pure, no I/O): `parse_track_response(payload, requested=[...])` turns a 200 body
into a `BatchOutcome`; `parse_shipment` does one element of `shipments[]`; `error_for_response`
classifies a non-200 answer (a 404 problem+json means the number is unknown).

What the published spec does not say but real answers do (docs/carriers.md §1):
* `id` may be a JSON number; it is compared as text.
* `details.references` may be an array or a single object (`parse_references` accepts both).
* Event timestamps are often naive while `status.timestamp` carries `Z`. A naive event time
  (or bare date, read as local midnight) is the scan place's local time: it is read in the zone
  of the event's country when that country keeps one time then, else kept as wall clock with
  `time_zone_known=False` (DHL gives no region). An offset is honoured. Other naive times
  (shipment status, estimated delivery) are read as UTC.
* Only five `statusCode` values exist; `status` is free text (kept as `raw_status_text`; DHL
  has no sub-status). "Out for delivery" has no code: a `transit` event is refined only when
  its `status` is one of the exact values in `TRANSIT_REFINEMENTS`.

Network half: `DHLAdapter.track()` fans the numbers out (the API takes one per request).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings

from . import http
from .base import (
    BatchOutcome,
    CarrierAdapter,
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from .localtime import place_local_time
from .numbers import normalize_tracking_number
from .parsing import as_list, json_or_none, parse_iso_datetime, place, scalar_text
from .statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "dhl"
REAL_BASE = "https://api-eu.dhl.com"
TRACK_PATH = "/track/shipments"

S = Status

# The whole `statusCode` enum of the Unified API.
STATUS_CODES: dict[str, Status] = {
    "pre-transit": S.INFO_RECEIVED,
    "transit": S.IN_TRANSIT,
    "delivered": S.DELIVERED,
    "failure": S.EXCEPTION,
    "unknown": S.PENDING,
}

# `status` values (compared after `canonical_status_text`) that turn a `transit` event into
# out-for-delivery. Exact values only: the DHL divisions behind the API word these differently
# (sentences, SNAKE_CASE, German), and anything not listed stays in transit.
TRANSIT_REFINEMENTS: dict[str, Status] = {
    "loaded onto delivery vehicle": S.OUT_FOR_DELIVERY,
    "the shipment has been loaded onto the delivery vehicle": S.OUT_FOR_DELIVERY,
    (
        "the shipment has been loaded onto the delivery vehicle. "
        "delivery is expected to take place today"
    ): S.OUT_FOR_DELIVERY,
    "die sendung wurde in das zustellfahrzeug geladen": S.OUT_FOR_DELIVERY,
    "with delivery courier": S.OUT_FOR_DELIVERY,
    "shipment is out with courier for delivery": S.OUT_FOR_DELIVERY,
    "out for delivery": S.OUT_FOR_DELIVERY,
}


# --- Parse half -----------------------------------------------------------------------------------


def canonical_status_text(value: Any) -> str:
    """Case, underscores, runs of spaces and a final full stop do not matter; words do."""
    text = " ".join(scalar_text(value).replace("_", " ").split()).casefold()
    return text.rstrip(".").rstrip()


def map_status(status_code: Any, status_text: Any = "") -> Status:
    """`statusCode` (+ the exact `status` refinements for `transit`) → normalised status."""
    code = scalar_text(status_code).casefold()
    status = STATUS_CODES.get(code)
    if status is None:
        logger.warning("dhl: unknown statusCode %r, treated as %s", code, S.PENDING.value)
        return S.PENDING
    if status == S.IN_TRANSIT:
        return TRANSIT_REFINEMENTS.get(canonical_status_text(status_text), status)
    return status


def parse_timestamp(value: Any, *, what: str = "timestamp") -> dt.datetime | None:
    """ISO date or date-time; naive → UTC. None (and a log line) when unreadable."""
    return parse_iso_datetime(scalar_text(value), what=what, carrier=CARRIER, log=logger)


def parse_references(shipment: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """`details.references` as `(type, number)` pairs, whether DHL sent an array or an object."""
    details = shipment.get("details")
    raw = details.get("references") if isinstance(details, Mapping) else None
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        return ()
    return tuple(
        (scalar_text(item.get("type")), scalar_text(item.get("number")))
        for item in raw
        if isinstance(item, Mapping) and scalar_text(item.get("number"))
    )


def parse_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    """One `ShipmentEvent`; None when it has no readable timestamp.

    A timestamp without offset is the local time of the event's place: read in the zone of its
    `countryCode` (`localtime.place_local_time`), or kept as wall clock with the zone unknown.
    """
    given = parse_iso_datetime(
        scalar_text(event.get("timestamp")),
        what="event timestamp",
        carrier=CARRIER,
        log=logger,
        naive_as_utc=False,
    )
    if given is None:
        if not scalar_text(event.get("timestamp")):
            logger.warning("dhl: event without timestamp skipped")
        return None
    when = place_local_time(given, _country(event.get("location")))
    return TrackingEventData(
        occurred_at=when.occurred_at,
        wall_clock=when.wall_clock,
        time_zone_known=when.zone_known,
        status=map_status(event.get("statusCode"), event.get("status")),
        description=scalar_text(event.get("description")) or scalar_text(event.get("status")),
        location=_place(event.get("location")),
        raw_code=scalar_text(event.get("statusCode")),
    )


def parse_shipment(shipment: Mapping[str, Any], *, tracking_number: str) -> TrackingResult:
    """One element of `shipments[]` → `TrackingResult` for the number we asked about."""
    pairs: list[tuple[Mapping[str, Any], TrackingEventData]] = []
    for raw in as_list(shipment.get("events")):
        event = parse_event(raw) if isinstance(raw, Mapping) else None
        if event is not None:
            pairs.append((raw, event))
    pairs.sort(key=lambda pair: pair[1].occurred_at, reverse=True)

    # The shipment-level `status` is DHL's own latest; without it, the newest event is.
    latest = shipment.get("status")
    if not isinstance(latest, Mapping) or not scalar_text(latest.get("statusCode")):
        latest = pairs[0][0] if pairs else {}
    status = map_status(latest.get("statusCode"), latest.get("status")) if latest else S.PENDING
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=status,
        sub_status="",  # DHL has no sub-status; `status` is free text (in raw_status_text)
        raw_status_code=scalar_text(latest.get("statusCode")),
        raw_status_text=scalar_text(latest.get("status")) or scalar_text(latest.get("description")),
        estimated_delivery=_estimated_delivery(shipment),
        origin=_place(shipment.get("origin")),
        destination=_place(shipment.get("destination")),
        events=tuple(event for _, event in pairs),
    )


def parse_track_response(payload: Any, *, requested: list[str]) -> BatchOutcome:
    """A 200 body → a result or an error for each requested number.

    A shipment answers a number when its `id` is that number; when one number was asked and
    DHL answered with another id (a piece id, a reference), its first shipment answers it.
    """
    shipments = payload.get("shipments") if isinstance(payload, Mapping) else None
    if not isinstance(shipments, list):
        raise CarrierUnavailable("dhl: response without a shipments list", carrier=CARRIER)
    candidates = [s for s in shipments if isinstance(s, Mapping)]
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number in requested:
        wanted = normalize_tracking_number(number)
        match = next(
            (
                s
                for s in candidates
                if normalize_tracking_number(scalar_text(s.get("id"))) == wanted
            ),
            None,
        )
        if match is None and len(requested) == 1 and candidates:
            match = candidates[0]
        if match is None:
            errors[number] = TrackingNumberNotFound(
                f"dhl: no shipment for {number}", carrier=CARRIER
            )
        else:
            results[number] = parse_shipment(match, tracking_number=number)
    return BatchOutcome(results=results, errors=errors)


def error_for_response(status_code: int, payload: Any, *, tracking_number: str) -> CarrierError:
    """A non-200 answer that `http.send` let through (4xx other than 401/403/429)."""
    problem = payload if isinstance(payload, Mapping) else {}
    detail = (
        scalar_text(problem.get("detail"))
        or scalar_text(problem.get("title"))
        or f"HTTP {status_code}"
    )
    if status_code == 404:
        return TrackingNumberNotFound(f"dhl: {tracking_number}: {detail}", carrier=CARRIER)
    return CarrierRejected(
        f"dhl: {tracking_number} refused ({status_code}): {detail}", carrier=CARRIER
    )


def _estimated_delivery(shipment: Mapping[str, Any]) -> dt.datetime | None:
    frame = shipment.get("estimatedDeliveryTimeFrame")
    frame = frame if isinstance(frame, Mapping) else {}
    for value in (
        shipment.get("estimatedTimeOfDelivery"),
        frame.get("estimatedThrough"),
        frame.get("estimatedFrom"),
    ):
        parsed = parse_timestamp(value, what="estimated delivery")
        if parsed is not None:
            return parsed
    return None


def _country(holder: Any) -> str:
    """`{address: {countryCode}}` → "IT" ("" when absent)."""
    address = holder.get("address") if isinstance(holder, Mapping) else None
    return scalar_text(address.get("countryCode")) if isinstance(address, Mapping) else ""


def _place(holder: Any) -> str:
    """`{address: {addressLocality, countryCode}}` → "Bonn, DE" (DHL gives no region)."""
    address = holder.get("address") if isinstance(holder, Mapping) else None
    if not isinstance(address, Mapping):
        return ""
    return place(
        scalar_text(address.get("addressLocality")),
        country=scalar_text(address.get("countryCode")),
    )


# --- Network half ---------------------------------------------------------------------------------


class DHLAdapter(CarrierAdapter):
    code = CARRIER

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = http.unique_numbers(tracking_numbers)
        if not numbers:
            return BatchOutcome()
        api_key = scalar_text(settings.CARRIER_CREDENTIALS.get(CARRIER, {}).get("api_key"))
        if not api_key:
            raise InvalidCredentials("dhl: no API key configured", carrier=CARRIER)
        base = http.base_url(CARRIER, REAL_BASE)
        one = partial(self._track_one, base, api_key)
        return http.collect_outcomes(http.fan_out(one, numbers))

    def _track_one(self, base: str, api_key: str, number: str) -> TrackingResult:
        response = http.send(
            CARRIER,
            "GET",
            f"{base}{TRACK_PATH}",
            params={"trackingNumber": number},
            headers={"DHL-API-Key": api_key, "Accept": "application/json"},
        )
        if response.status_code != 200:
            raise error_for_response(
                response.status_code, json_or_none(response), tracking_number=number
            )
        outcome = parse_track_response(http.json_body(CARRIER, response), requested=[number])
        return http.result_for(number, outcome)
