"""The carrier sandbox's own native API (`python manage.py carrier_sandbox`).

`GET {base}/sandbox/v1/track?numbers=A,B,C` (at most 50 numbers) answers
`{"results": [...], "not_found": [...]}`; every result already carries one of the nine
normalised statuses, so parsing is a matter of reading and validating them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from shipments.carriers import http
from shipments.carriers.base import (
    BatchOutcome,
    CarrierAdapter,
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.parsing import parse_iso_datetime, text
from shipments.carriers.statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "sandbox"
DEFAULT_BASE = "http://127.0.0.1:8100"
TRACK_PATH = "/sandbox/v1/track"
BATCH_SIZE = 50

DEFAULT_STATUS = Status.PENDING
STATUSES: dict[str, Status] = {status.value: status for status in Status}


# --- Parse half ----------------------------------------------------------------------------------


def map_status(value: Any) -> Status:
    """A sandbox status (already normalised); anything else is logged and read as pending."""
    status = STATUSES.get(text(value))
    if status is None:
        logger.warning("sandbox: unknown status %r, using %s", value, DEFAULT_STATUS.value)
        return DEFAULT_STATUS
    return status


def _parse_datetime(value: Any, *, what: str) -> dt.datetime | None:
    return parse_iso_datetime(value, what=what, carrier=CARRIER, log=logger)


def parse_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    occurred_at = _parse_datetime(event.get("occurred_at"), what="occurred_at")
    if occurred_at is None:
        logger.warning("sandbox: skipping an event without a readable time")
        return None
    return TrackingEventData(
        occurred_at=occurred_at,
        status=map_status(event.get("status")),
        description=text(event.get("description")),
        location=text(event.get("location")),
        raw_code=text(event.get("code")),
    )


def parse_result(item: Mapping[str, Any], *, tracking_number: str = "") -> TrackingResult:
    """One entry of `results` → `TrackingResult`, events newest first."""
    raw_events = [e for e in item.get("events") or [] if isinstance(e, Mapping)]
    parsed = [e for e in (parse_event(e) for e in raw_events) if e is not None]
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number or text(item.get("tracking_number")),
        status=map_status(item.get("status")),
        sub_status=text(item.get("sub_status")),
        raw_status_code=text(item.get("status_code")),
        raw_status_text=text(item.get("status_text")),
        estimated_delivery=_parse_datetime(
            item.get("estimated_delivery"), what="estimated_delivery"
        ),
        origin=text(item.get("origin")),
        destination=text(item.get("destination")),
        events=tuple(sorted(parsed, key=lambda e: e.occurred_at, reverse=True)),
    )


def parse_track_response(payload: Any, *, requested: Iterable[str]) -> BatchOutcome:
    """A `/sandbox/v1/track` answer → a result or an error for every requested number."""
    if not isinstance(payload, Mapping):
        raise CarrierUnavailable("sandbox: unexpected response body", carrier=CARRIER)
    found = {
        text(item.get("tracking_number")): item
        for item in payload.get("results") or []
        if isinstance(item, Mapping)
    }
    not_found = {text(number) for number in payload.get("not_found") or []}
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number in requested:
        if number in found:
            results[number] = parse_result(found[number], tracking_number=number)
        elif number in not_found:
            errors[number] = TrackingNumberNotFound(
                "sandbox: tracking number not found", carrier=CARRIER
            )
        else:
            errors[number] = CarrierUnavailable(
                "sandbox: no answer for this number", carrier=CARRIER
            )
    return BatchOutcome(results=results, errors=errors)


# --- Network half --------------------------------------------------------------------------------


class SandboxAdapter(CarrierAdapter):
    code = CARRIER
    name = "Carrier sandbox"
    batch_size = BATCH_SIZE
    public_url_template = ""

    def _track_batch(self, base: str, numbers: list[str]) -> BatchOutcome:
        response = http.send(
            CARRIER,
            "GET",
            f"{base}{TRACK_PATH}",
            params={"numbers": ",".join(numbers)},
            headers={"Accept": "application/json"},
        )
        if response.status_code == 200:
            return parse_track_response(http.json_body(CARRIER, response), requested=numbers)
        if 400 <= response.status_code < 500:
            raise CarrierRejected(
                f"sandbox: request refused ({response.status_code})", carrier=CARRIER
            )
        raise CarrierUnavailable(
            f"sandbox: unexpected status {response.status_code}", carrier=CARRIER
        )

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = list(dict.fromkeys(tracking_numbers))
        if not numbers:
            return BatchOutcome()
        base = http.base_url(CARRIER, DEFAULT_BASE)
        return http.track_in_batches(partial(self._track_batch, base), numbers, size=BATCH_SIZE)
