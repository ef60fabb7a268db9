"""17TRACK API v2.2: POST JSON arrays of at most 40 numbers, header `17token`.

17TRACK only reports on numbers registered with it. `track()` therefore asks `gettrackinfo`
first; numbers it rejects as not registered (-18019902) are sent to `register` and asked about
again within the same call (docs/carriers.md §5). Registration is asynchronous: a number
registered a moment ago usually comes back with status NotFound (→ pending) and no events yet.

Parse half: `parse_track_response(payload, requested=...)` → `BatchOutcome`; `parse_track_info`
→ `TrackingResult` for one `accepted[]` item. Times: `time_utc`, else `time_iso`, else `time_raw`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.conf import settings

from . import actual, catalogue, http, ratelimit
from .base import (
    AccountLimitReached,
    BatchOutcome,
    CarrierAdapter,
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
    TrackingEventData,
    TrackingResult,
)
from .parsing import (
    as_mapping,
    newest_first,
    number_key,
    parse_iso_datetime,
    place,
    text,
    two_level_status,
)
from .seventeentrack_codes import (
    ACCOUNT_LIMITS,
    ALREADY_REGISTERED,
    ERROR_CODES,
    MAIN_STATUSES,
    NOT_REGISTERED,
    STAGES,
    SUB_STATUSES,
    account_pause,
)
from .statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "17track"
REAL_BASE = "https://api.17track.net"
API_PATH = "/track/v2.2"
BATCH_SIZE = catalogue.BY_CODE[CARRIER].batch_size

S = Status
DEFAULT_STATUS = S.PENDING

# --- Parse half ----------------------------------------------------------------------------------


def map_status(main: str, sub: str = "") -> Status:
    """Normalised status from a 17TRACK sub_status, falling back to its main status.

    An unknown sub_status is logged and maps to its main status (the given one, else the part of
    the name before "_": sub-statuses are named `<MainStatus>_<Detail>`); an unknown main status
    is logged and maps to pending.
    """
    return two_level_status(
        detail=sub,
        family=main,
        details=SUB_STATUSES,
        families=MAIN_STATUSES,
        default=DEFAULT_STATUS,
        log=logger,
        carrier=CARRIER,
        what=("sub_status", "main status", "status"),
    )


def _event_status(sub: str, stage: str) -> Status:
    """An event's status: its sub_status, else the main status that names it, else its stage.

    Events carry no main status of their own; an unknown sub_status is logged and falls back to
    the main status in its name (`<MainStatus>_<Detail>`), then to the event's stage.
    """
    if sub:
        status = SUB_STATUSES.get(sub)
        if status is not None:
            return status
        parent = sub.split("_", 1)[0]
        status = MAIN_STATUSES.get(parent)
        logger.warning(
            "17track: unknown event sub_status %r, using %s",
            sub,
            f"main status {parent!r}" if status is not None else f"stage {stage!r}",
        )
        if status is not None:
            return status
    if stage:
        status = STAGES.get(stage)
        if status is not None:
            return status
        logger.warning("17track: unknown event stage %r, using %s", stage, DEFAULT_STATUS.value)
    return DEFAULT_STATUS


def _parse_datetime(value: Any, *, what: str, naive_as_utc: bool = False) -> dt.datetime | None:
    return parse_iso_datetime(
        value, what=what, carrier=CARRIER, log=logger, naive_as_utc=naive_as_utc
    )


def _raw_time(raw: Any) -> dt.datetime | None:
    """`time_raw` = {date, time, timezone}: only used when it names its offset."""
    if not isinstance(raw, Mapping):
        return None
    date, time, zone = text(raw.get("date")), text(raw.get("time")), text(raw.get("timezone"))
    if not date or not zone:
        return None
    if zone.upper() in ("Z", "UTC", "GMT"):
        zone = "+00:00"
    return _parse_datetime(f"{date}T{time or '00:00'}{zone}", what="time_raw")


def event_time(event: Mapping[str, Any]) -> dt.datetime | None:
    """`time_utc`, else `time_iso` (carrier-local with offset), else an offset-bearing time_raw."""
    utc = _parse_datetime(event.get("time_utc"), what="time_utc", naive_as_utc=True)
    local = _parse_datetime(event.get("time_iso"), what="time_iso")
    if local is not None and local.tzinfo is None:
        local = None
    if utc is not None:
        # The instant is time_utc's; shown in the carrier's local offset when time_iso has one.
        return utc.astimezone(local.tzinfo) if local is not None else utc
    if local is not None:
        return local
    return _raw_time(event.get("time_raw"))


def _address(address: Any) -> str:
    if not isinstance(address, Mapping):
        return ""
    return place(
        text(address.get("city")),
        text(address.get("state")),
        text(address.get("postal_code")),
        text(address.get("country")),
    )


def parse_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    """One provider event, or None (logged) when it has no readable, zoned time."""
    occurred_at = event_time(event)
    if occurred_at is None:
        logger.warning("17track: skipping an event without a readable time: %r", dict(event))
        return None
    sub = text(event.get("sub_status"))
    stage = text(event.get("stage"))
    description = text(event.get("description"))
    if not description:
        translation = event.get("description_translation")
        if isinstance(translation, Mapping):
            description = text(translation.get("description"))
    return TrackingEventData(
        occurred_at=occurred_at,
        status=_event_status(sub, stage),
        description=description,
        location=text(event.get("location")) or _address(event.get("address")),
        raw_code=sub or stage,
    )


def _estimated_delivery(track_info: Mapping[str, Any]) -> dt.datetime | None:
    estimate = as_mapping(as_mapping(track_info.get("time_metrics")).get("estimated_delivery_date"))
    for name in ("to", "from"):
        value = _parse_datetime(
            estimate.get(name), what=f"estimated_delivery_date.{name}", naive_as_utc=True
        )
        if value is not None:
            return value
    return None


def parse_track_info(item: Mapping[str, Any], *, tracking_number: str = "") -> TrackingResult:
    """One `accepted[]` item of `gettrackinfo` (or a webhook's `data`) → `TrackingResult`.

    Events of every provider (e.g. origin and destination post) are merged, newest first.
    """
    info = as_mapping(item.get("track_info"))
    latest = as_mapping(info.get("latest_status"))
    latest_event = as_mapping(info.get("latest_event"))
    main = text(latest.get("status"))
    sub = text(latest.get("sub_status"))
    raw_events: list[Mapping[str, Any]] = []
    for provider in as_mapping(info.get("tracking")).get("providers") or []:
        if isinstance(provider, Mapping):
            raw_events.extend(e for e in provider.get("events") or [] if isinstance(e, Mapping))
    parsed = (parse_event(e) for e in raw_events)
    events = newest_first(e for e in parsed if e is not None)
    shipping = as_mapping(info.get("shipping_info"))
    tracking_number = tracking_number or text(item.get("number"))
    code, name, url = actual.from_17track(item, tracking_number)
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=map_status(main, sub),
        sub_status=sub,
        raw_status_code=main,
        raw_status_text=text(latest.get("sub_status_descr"))
        or text(latest_event.get("description")),
        estimated_delivery=_estimated_delivery(info),
        origin=_address(shipping.get("shipper_address")),
        destination=_address(shipping.get("recipient_address")),
        events=events,
        actual_carrier_code=code,
        actual_carrier_name=name,
        actual_carrier_url=url,
    )


def error_for(code: Any, message: str, *, now: dt.datetime | None = None) -> CarrierError:
    """The `CarrierError` for a 17TRACK error code (unknown codes: logged, `CarrierRejected`).

    The account's daily limit (-18019907) or used-up quota (-18019908) concern every number:
    `AccountLimitReached`, with `retry_after` until the limit is expected to lift.
    """
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = None
    if number in ACCOUNT_LIMITS:
        return AccountLimitReached(
            f"17track: {message or 'account limit reached'} ({code})",
            carrier=CARRIER,
            retry_after=account_pause(number, now or dt.datetime.now(dt.UTC)),
        )
    kind = ERROR_CODES.get(number) if number is not None else None
    if kind is None:
        logger.warning("17track: unknown error code %r (%s)", code, message)
        kind = CarrierRejected
    return kind(f"17track: {message or 'error'} ({code})", carrier=CARRIER)


def _data(payload: Any) -> Mapping[str, Any]:
    """The envelope's `data`, raising the envelope's error when `code` is not 0."""
    if not isinstance(payload, Mapping):
        raise CarrierUnavailable("17track: unexpected response body", carrier=CARRIER)
    code = payload.get("code", 0)
    if code not in (0, "0"):
        data = as_mapping(payload.get("data"))
        errors = data.get("errors")
        message = ""
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            message = text(errors[0].get("message"))
        raise error_for(code, message or text(payload.get("message")))
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise CarrierUnavailable("17track: response without data", carrier=CARRIER)
    return data


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    return [item for item in data.get(name) or [] if isinstance(item, Mapping)]


def _rejections(data: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    for item in _items(data, "rejected"):
        error = as_mapping(item.get("error"))
        out[number_key(item.get("number"))] = (error.get("code"), text(error.get("message")))
    return out


def unregistered_numbers(payload: Any, *, requested: Iterable[str]) -> list[str]:
    """The requested numbers that `gettrackinfo` rejected as not registered (-18019902)."""
    rejected = _rejections(_data(payload))
    out = []
    for number in requested:
        code = rejected.get(number_key(number), (None, ""))[0]
        if code in (NOT_REGISTERED, str(NOT_REGISTERED)):
            out.append(number)
    return out


def parse_track_response(payload: Any, *, requested: Iterable[str]) -> BatchOutcome:
    """A `gettrackinfo` answer → a result or an error for every requested number.

    Raises the envelope's error when its `code` is not 0 (it concerns the whole request).
    """
    data = _data(payload)
    accepted = {number_key(item.get("number")): item for item in _items(data, "accepted")}
    rejected = _rejections(data)
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number in requested:
        key = number_key(number)
        if key in accepted:
            results[number] = parse_track_info(accepted[key], tracking_number=number)
        elif key in rejected:
            errors[number] = error_for(*rejected[key])
        else:
            errors[number] = CarrierUnavailable(
                "17track: no answer for this number", carrier=CARRIER
            )
    return BatchOutcome(results=results, errors=errors)


def parse_register_response(
    payload: Any, *, requested: Iterable[str]
) -> tuple[list[str], dict[str, CarrierError]]:
    """A `register` answer → (numbers now registered, errors of the numbers it refused)."""
    data = _data(payload)
    rejected = _rejections(data)
    registered: list[str] = []
    errors: dict[str, CarrierError] = {}
    for number in requested:
        code, message = rejected.get(number_key(number), (None, ""))
        if code is None or code in (ALREADY_REGISTERED, str(ALREADY_REGISTERED)):
            registered.append(number)
        else:
            errors[number] = error_for(code, message)
    return registered, errors


# --- Network half --------------------------------------------------------------------------------


class SeventeenTrackAdapter(CarrierAdapter):
    code = CARRIER

    def _post(self, base: str, endpoint: str, numbers: list[str]) -> Any:
        credentials = settings.CARRIER_CREDENTIALS.get(CARRIER) or {}
        response = http.send(
            CARRIER,
            "POST",
            f"{base}{API_PATH}/{endpoint}",
            json=[{"number": number} for number in numbers],
            headers={
                "17token": credentials.get("api_key", ""),
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        if response.status_code == 200:
            return http.json_body(CARRIER, response)
        if 400 <= response.status_code < 500:
            raise CarrierRejected(
                f"17track: {endpoint} refused ({response.status_code})", carrier=CARRIER
            )
        raise CarrierUnavailable(
            f"17track: unexpected status {response.status_code}", carrier=CARRIER
        )

    def _track_batch(self, base: str, numbers: list[str]) -> BatchOutcome:
        """One batch; an account limit (in the envelope or for any number) pauses 17TRACK for
        every process, as a 429 does, so that the next batches and pulls wait for it."""
        try:
            outcome = self._track_registered(base, numbers)
        except AccountLimitReached as exc:
            ratelimit.pause(CARRIER, exc.retry_after)
            raise
        for error in outcome.errors.values():
            if isinstance(error, AccountLimitReached):
                ratelimit.pause(CARRIER, error.retry_after)
                break
        return outcome

    def _track_registered(self, base: str, numbers: list[str]) -> BatchOutcome:
        payload = self._post(base, "gettrackinfo", numbers)
        outcome = parse_track_response(payload, requested=numbers)
        unregistered = unregistered_numbers(payload, requested=numbers)
        if not unregistered:
            return outcome
        results = dict(outcome.results)
        errors = dict(outcome.errors)
        registered, refused = parse_register_response(
            self._post(base, "register", unregistered), requested=unregistered
        )
        errors.update(refused)
        if registered:
            fetched = parse_track_response(
                self._post(base, "gettrackinfo", registered), requested=registered
            )
            for number, result in fetched.results.items():
                errors.pop(number, None)
                results[number] = result
            errors.update(fetched.errors)
        return BatchOutcome(results=results, errors=errors)

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = list(dict.fromkeys(tracking_numbers))
        if not numbers:
            return BatchOutcome()
        base = http.base_url(CARRIER, REAL_BASE)
        return http.track_in_batches(partial(self._track_batch, base), numbers, size=BATCH_SIZE)
