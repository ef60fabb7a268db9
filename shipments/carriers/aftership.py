"""AfterShip Tracking API (version 2025-01; 2024-04 answers are read too), header `as-api-key`.

AfterShip only reports on trackings created in the account, and addresses a single tracking by
its own id, which we do not keep. Per number, `track()` therefore:

1. `GET /tracking/2025-01/trackings?tracking_numbers=N` and picks the tracking with that number;
2. if there is none (or the answer is 404 / meta 4004), creates it with `POST …/trackings`
   and reads the tracking from the create answer (a concurrent create, meta 4003, means: get it
   again). A just-created tracking is `Pending` without checkpoints until AfterShip has fetched it.

Envelopes differ by version (docs/carriers.md §6): 2025-01 puts the tracking itself in `data`,
2024-04 in `data.tracking`; lists are `data.trackings` in both. Field names differ too
(`origin_country_region` vs `origin_country_iso3`, `latest_estimated_delivery` vs
`expected_delivery`). `checkpoint_time` may be naive (the checkpoint's local time, zone unknown):
read as UTC.

A 429 carries `X-RateLimit-Reset` (unix time) rather than `Retry-After`; it is turned into the
wait, and a success that leaves `X-RateLimit-Remaining: 0` holds every process back until reset.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

import requests
from django.conf import settings

from . import actual, http, ratelimit
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
from .parsing import (
    as_mapping,
    json_or_none,
    newest_first,
    number_key,
    parse_iso_datetime,
    place,
    text,
    two_level_status,
)
from .statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "aftership"
REAL_BASE = "https://api.aftership.com"
API_VERSION = "2025-01"
TRACKINGS_PATH = f"/tracking/{API_VERSION}/trackings"
API_KEY_HEADER = "as-api-key"

S = Status

# `tag` (the nine delivery statuses) → normalised status.
TAGS: dict[str, Status] = {
    "Pending": S.PENDING,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.FAILED_ATTEMPT,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
    "Expired": S.EXPIRED,
}

# Documented `subtag` values (sub-statuses `<Tag>_<NNN>`); each follows its tag.
_SUBTAG_NUMBERS: dict[str, tuple[int, ...]] = {
    "Pending": (1, 2, 3, 4, 5, 6),
    "InfoReceived": (1,),
    "InTransit": (1, 2, 3, 4, 5, 6, 7, 8, 9),
    "OutForDelivery": (1, 3, 4),
    "AttemptFail": (1, 2, 3),
    "AvailableForPickup": (1,),
    "Delivered": (1, 2, 3, 4, 5),
    "Exception": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18),
    "Expired": (1,),
}
SUBTAGS: dict[str, Status] = {
    f"{tag}_{n:03d}": TAGS[tag] for tag, numbers in _SUBTAG_NUMBERS.items() for n in numbers
}

DEFAULT_STATUS = S.PENDING

# meta.code → error. 4003 (already exists) is handled by the create step itself.
ALREADY_EXISTS = 4003
META_CODES: dict[int, type[CarrierError]] = {
    400: CarrierRejected,
    4001: CarrierRejected,  # invalid JSON
    4004: TrackingNumberNotFound,  # tracking does not exist
    4005: CarrierRejected,  # tracking number invalid
    4006: CarrierRejected,
    4007: CarrierRejected,
    4008: CarrierRejected,
    4009: CarrierRejected,
    4010: CarrierRejected,  # slug invalid
    4011: CarrierRejected,
    4012: TrackingNumberNotFound,  # no courier can be detected for the number
    4013: CarrierRejected,
    4014: CarrierRejected,
    4015: CarrierRejected,  # id invalid
    4016: CarrierRejected,
    4017: CarrierRejected,  # tracking number format invalid
    401: InvalidCredentials,
    403: InvalidCredentials,
    404: CarrierRejected,  # the path itself does not exist
    429: RateLimited,
    500: CarrierUnavailable,
    502: CarrierUnavailable,
    503: CarrierUnavailable,
    504: CarrierUnavailable,
}


# --- Parse half ----------------------------------------------------------------------------------


def map_status(tag: str, subtag: str = "") -> Status:
    """Normalised status from a subtag, falling back to its tag.

    An unknown subtag is logged and maps to its tag (the given one, else the part of the subtag
    before "_"); an unknown tag is logged and maps to pending.
    """
    return two_level_status(
        detail=subtag,
        family=tag,
        details=SUBTAGS,
        families=TAGS,
        default=DEFAULT_STATUS,
        log=logger,
        carrier=CARRIER,
        what=("subtag", "tag", "tag"),
    )


def parse_datetime(value: Any, *, what: str = "time") -> dt.datetime | None:
    """ISO 8601 → aware datetime; naive values are read as UTC; malformed ones logged → None."""
    return parse_iso_datetime(value, what=what, carrier=CARRIER, log=logger)


def _place(obj: Mapping[str, Any], *, prefix: str = "") -> str:
    country = ""
    for name in ("country_region", "country_iso3", "country_region_name", "country_name"):
        country = text(obj.get(f"{prefix}{name}"))
        if country:
            break
    return place(
        text(obj.get(f"{prefix}city")),
        text(obj.get(f"{prefix}state")),
        text(obj.get(f"{prefix}postal_code")),
        country,
    )


def parse_checkpoint(checkpoint: Mapping[str, Any]) -> TrackingEventData | None:
    """One checkpoint, or None (logged) when its time is missing or unreadable."""
    occurred_at = parse_datetime(checkpoint.get("checkpoint_time"), what="checkpoint_time")
    if occurred_at is None:
        logger.warning("aftership: skipping a checkpoint without a readable time")
        return None
    tag = text(checkpoint.get("tag"))
    subtag = text(checkpoint.get("subtag"))
    location = text(checkpoint.get("location"))
    if not location:
        country = text(
            checkpoint.get("country_region_name")
            or checkpoint.get("country_name")
            or checkpoint.get("country_region")
            or checkpoint.get("country_iso3")
        )
        location = place(
            text(checkpoint.get("city")),
            text(checkpoint.get("state")),
            text(checkpoint.get("zip")),
            country,
        )
    return TrackingEventData(
        occurred_at=occurred_at,
        status=map_status(tag, subtag),
        description=text(checkpoint.get("message")) or text(checkpoint.get("subtag_message")),
        location=location,
        raw_code=subtag or tag,
    )


def _estimated_delivery(tracking: Mapping[str, Any]) -> dt.datetime | None:
    candidates: list[tuple[str, Any]] = []
    latest = tracking.get("latest_estimated_delivery")
    if isinstance(latest, Mapping):
        candidates.append(("latest_estimated_delivery", latest.get("datetime")))
    else:
        candidates.append(("latest_estimated_delivery", latest))
    for name in ("courier_estimated_delivery_date", "aftership_estimated_delivery_date"):
        candidates.append((name, as_mapping(tracking.get(name)).get("estimated_delivery_date")))
    candidates.append(("expected_delivery", tracking.get("expected_delivery")))  # 2024-04
    for name, value in candidates:
        parsed = parse_datetime(value, what=name)
        if parsed is not None:
            return parsed
    return None


def parse_tracking(tracking: Mapping[str, Any], *, tracking_number: str = "") -> TrackingResult:
    """One AfterShip tracking object (either version) → `TrackingResult`, events newest first."""
    tag = text(tracking.get("tag"))
    subtag = text(tracking.get("subtag"))
    checkpoints = [c for c in tracking.get("checkpoints") or [] if isinstance(c, Mapping)]
    parsed = (parse_checkpoint(c) for c in checkpoints)
    tracking_number = tracking_number or text(tracking.get("tracking_number"))
    code, name, url = actual.from_aftership(tracking, tracking_number)
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=map_status(tag, subtag),
        sub_status=subtag,
        raw_status_code=tag,
        raw_status_text=text(tracking.get("subtag_message")) or text(tracking.get("tag_message")),
        estimated_delivery=_estimated_delivery(tracking),
        origin=_place(tracking, prefix="origin_"),
        destination=_place(tracking, prefix="destination_"),
        # AfterShip lists checkpoints oldest first.
        events=newest_first((e for e in parsed if e is not None), listed_oldest_first=True),
        actual_carrier_code=code,
        actual_carrier_name=name,
        actual_carrier_url=url,
    )


def meta_error(payload: Any, http_status: int) -> CarrierError | None:
    """The error an AfterShip answer stands for, or None for a success.

    `meta.code` decides (exact table; unknown 4xxx codes are logged and refused); without a
    readable meta, the HTTP status does.
    """
    meta = as_mapping(as_mapping(payload).get("meta"))
    code = meta.get("code")
    try:
        code = int(code) if code is not None else http_status
    except (TypeError, ValueError):
        code = http_status
    if code in (200, 201) and http_status < 300:
        return None
    message = text(meta.get("message")) or f"status {http_status}"
    if code == ALREADY_EXISTS:
        return CarrierRejected(f"aftership: {message} ({code})", carrier=CARRIER)
    kind = META_CODES.get(code)
    if kind is None:
        logger.warning("aftership: unknown meta code %r (%s)", code, message)
        kind = CarrierUnavailable if 500 <= code < 600 or http_status >= 500 else CarrierRejected
    return kind(f"aftership: {message} ({code})", carrier=CARRIER)


def find_tracking(payload: Any, *, tracking_number: str) -> Mapping[str, Any] | None:
    """The tracking for `tracking_number` in a list, get or create answer of either version."""
    data = as_mapping(as_mapping(payload).get("data"))
    trackings = data.get("trackings")
    if isinstance(trackings, list):  # GET /trackings (both versions)
        wanted = number_key(tracking_number)
        for tracking in trackings:
            if (
                isinstance(tracking, Mapping)
                and number_key(tracking.get("tracking_number")) == wanted
            ):
                return tracking
        return None
    single = data.get("tracking")  # 2024-04: data.tracking
    if isinstance(single, Mapping):
        return single
    if "tracking_number" in data or "tag" in data:  # 2025-01: data is the tracking
        return data
    return None


def parse_response(payload: Any, *, tracking_number: str, http_status: int = 200) -> TrackingResult:
    """A whole AfterShip answer (`{"meta", "data"}`, either version) → `TrackingResult`.

    Raises the `CarrierError` of a failed answer, and `TrackingNumberNotFound` when the answer
    holds no tracking with that number.
    """
    error = meta_error(payload, http_status)
    if error is not None:
        raise error
    tracking = find_tracking(payload, tracking_number=tracking_number)
    if tracking is None:
        raise TrackingNumberNotFound("aftership: no such tracking", carrier=CARRIER)
    return parse_tracking(tracking, tracking_number=tracking_number)


def seconds_until_reset(value: Any, *, now: float | None = None) -> float | None:
    """`X-RateLimit-Reset` (unix time, seconds or milliseconds) as seconds from now (≥ 1)."""
    try:
        reset = float(text(value))
    except ValueError:
        return None
    if not math.isfinite(reset):
        return None
    if reset > 1e11:  # milliseconds
        reset /= 1000
    wait = reset - (time.time() if now is None else now)
    return min(max(wait, 1.0), 3600.0)


# --- Network half --------------------------------------------------------------------------------


def _retry_after_from_reset(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: a 429 without `Retry-After` gets one from `X-RateLimit-Reset`."""
    if response.status_code == 429 and not response.headers.get("Retry-After"):
        wait = seconds_until_reset(response.headers.get("X-RateLimit-Reset"))
        if wait is not None:
            response.headers["Retry-After"] = f"{wait:.3f}"


class _Exists(Exception):
    """Internal: the create step found the tracking already there (meta 4003)."""


class AfterShipAdapter(CarrierAdapter):
    code = CARRIER

    def _request(self, method: str, url: str, **kwargs: Any) -> tuple[Any, int]:
        credentials = settings.CARRIER_CREDENTIALS.get(CARRIER) or {}
        headers = {
            API_KEY_HEADER: credentials.get("api_key", ""),
            "Accept": "application/json",
        }
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        response = http.send(
            CARRIER,
            method,
            url,
            headers=headers,
            hooks={"response": [_retry_after_from_reset]},
            **kwargs,
        )
        if response.headers.get("X-RateLimit-Remaining", "").strip() == "0":
            wait = seconds_until_reset(response.headers.get("X-RateLimit-Reset"))
            if wait is not None:
                ratelimit.pause(CARRIER, wait)
        payload = json_or_none(response)
        if payload is None and response.status_code < 300:
            raise CarrierUnavailable("aftership: unreadable response body", carrier=CARRIER)
        return payload, response.status_code

    def _find(self, url: str, number: str) -> Mapping[str, Any] | None:
        payload, status = self._request("GET", url, params={"tracking_numbers": number})
        error = meta_error(payload, status)
        if isinstance(error, TrackingNumberNotFound):
            return None
        if error is not None:
            raise error
        return find_tracking(payload, tracking_number=number)

    def _create(self, url: str, number: str) -> Mapping[str, Any] | None:
        payload, status = self._request("POST", url, json={"tracking_number": number})
        if as_mapping(as_mapping(payload).get("meta")).get("code") == ALREADY_EXISTS:
            raise _Exists
        error = meta_error(payload, status)
        if error is not None:
            raise error
        return find_tracking(payload, tracking_number=number)

    def _track_one(self, base: str, number: str) -> TrackingResult:
        url = f"{base}{TRACKINGS_PATH}"
        tracking = self._find(url, number)
        if tracking is None:
            try:
                tracking = self._create(url, number)
            except _Exists:
                tracking = None
            if tracking is None:
                tracking = self._find(url, number)
        if tracking is None:
            raise TrackingNumberNotFound("aftership: no such tracking", carrier=CARRIER)
        return parse_tracking(tracking, tracking_number=number)

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = list(dict.fromkeys(tracking_numbers))
        if not numbers:
            return BatchOutcome()
        base = http.base_url(CARRIER, REAL_BASE)
        return http.collect_outcomes(http.fan_out(partial(self._track_one, base), numbers))
