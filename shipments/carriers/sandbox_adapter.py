"""The carrier sandbox's own native API (`python manage.py carrier_sandbox`).

`GET {base}/sandbox/v1/track?numbers=A,B,C` (at most 50 numbers) answers
`{"results": [...], "not_found": [...]}`; every result already carries one of the nine
normalised statuses, so parsing is a matter of reading and validating them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from shipments.models import ShipmentStatus

from . import http
from .base import (
    BatchOutcome,
    CarrierAdapter,
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    RateLimited,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)

logger = logging.getLogger(__name__)

CARRIER = "sandbox"
DEFAULT_BASE = "http://127.0.0.1:8100"
TRACK_PATH = "/sandbox/v1/track"
BATCH_SIZE = 50

DEFAULT_STATUS = ShipmentStatus.PENDING
STATUSES: dict[str, ShipmentStatus] = {status.value: status for status in ShipmentStatus}


# --- Parse half ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def map_status(value: Any) -> ShipmentStatus:
    """A sandbox status (already normalised); anything else is logged and read as pending."""
    status = STATUSES.get(_text(value))
    if status is None:
        logger.warning("sandbox: unknown status %r, using %s", value, DEFAULT_STATUS.value)
        return DEFAULT_STATUS
    return status


def _parse_datetime(value: Any, *, what: str) -> dt.datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        logger.warning("sandbox: unreadable %s %r", what, text)
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def parse_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    occurred_at = _parse_datetime(event.get("occurred_at"), what="occurred_at")
    if occurred_at is None:
        logger.warning("sandbox: skipping an event without a readable time")
        return None
    return TrackingEventData(
        occurred_at=occurred_at,
        status=map_status(event.get("status")),
        description=_text(event.get("description")),
        location=_text(event.get("location")),
        raw_code=_text(event.get("code")),
    )


def parse_result(item: Mapping[str, Any], *, tracking_number: str = "") -> TrackingResult:
    """One entry of `results` → `TrackingResult`, events newest first."""
    raw_events = [e for e in item.get("events") or [] if isinstance(e, Mapping)]
    parsed = [e for e in (parse_event(e) for e in raw_events) if e is not None]
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number or _text(item.get("tracking_number")),
        status=map_status(item.get("status")),
        sub_status=_text(item.get("sub_status")),
        raw_status_code=_text(item.get("status_code")),
        raw_status_text=_text(item.get("status_text")),
        estimated_delivery=_parse_datetime(
            item.get("estimated_delivery"), what="estimated_delivery"
        ),
        origin=_text(item.get("origin")),
        destination=_text(item.get("destination")),
        events=tuple(sorted(parsed, key=lambda e: e.occurred_at, reverse=True)),
    )


def parse_track_response(payload: Any, *, requested: Iterable[str]) -> BatchOutcome:
    """A `/sandbox/v1/track` answer → a result or an error for every requested number."""
    if not isinstance(payload, Mapping):
        raise CarrierUnavailable("sandbox: unexpected response body", carrier=CARRIER)
    found = {
        _text(item.get("tracking_number")): item
        for item in payload.get("results") or []
        if isinstance(item, Mapping)
    }
    not_found = {_text(number) for number in payload.get("not_found") or []}
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


def _whole_call_error(
    numbers: list[str], errors: Mapping[str, CarrierError]
) -> CarrierError | None:
    """The error to raise when every number failed alike with a transient or credentials error."""
    if not numbers or len(errors) < len(numbers):
        return None
    first = next(iter(errors.values()))
    if not (first.transient or isinstance(first, InvalidCredentials)):
        return None
    if all(type(error) is type(first) for error in errors.values()):
        return first
    return None


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
        results: dict[str, TrackingResult] = {}
        errors: dict[str, CarrierError] = {}
        stop: CarrierError | None = None
        for start in range(0, len(numbers), BATCH_SIZE):
            batch = numbers[start : start + BATCH_SIZE]
            if stop is not None:
                errors.update(dict.fromkeys(batch, stop))
                continue
            try:
                outcome = self._track_batch(base, batch)
            except (RateLimited, InvalidCredentials) as exc:
                stop = exc
                errors.update(dict.fromkeys(batch, exc))
                continue
            except CarrierError as exc:
                errors.update(dict.fromkeys(batch, exc))
                continue
            results.update(outcome.results)
            errors.update(outcome.errors)
        whole = _whole_call_error(numbers, errors)
        if whole is not None:
            raise whole
        return BatchOutcome(results=results, errors=errors)
