"""UPS Track API: OAuth client credentials, one GET per inquiry number.

Parse half (pure, no I/O): `parse_track_response(payload, requested=[...])` turns a 200 body
into a `BatchOutcome`; `parse_package` does one `package`; `error_for_response` classifies the
`{"response": {"errors": [...]}}` body of a 4xx.

Status: the 3-digit Status/Description code (`status.statusCode`, e.g. "021") is looked up in
`STATUS_CODES`. An unknown code is logged and falls back to its activity type (`status.type`,
`ACTIVITY_TYPES`: "I" → in transit, ...); an unknown type too → pending.

What the published spec does not say but real answers do (docs/carriers.md §2):
* An unknown number is HTTP 200 with warning `TW0001` and no `package` → not found.
* An invalid number is HTTP 400 with error `TV1002` → rejected.
* Activity type `P` (pickup) is not in the appendix but is sent → in transit.
* `gmtTime` may lose its leading zero ("74700"); times are zero-filled to six digits.
* `gmtTime` (and `time`) may come as "HH:MM:SS" instead of digits; both are read.

Time: `gmtDate`+`gmtTime` are UTC (shown in the scan's `gmtOffset`); without them the local
`date`+`time` is read in `gmtOffset`, and without an offset in the zone of the scan's country and
`stateProvince` (`localtime`); when that zone cannot be told the wall clock is kept with
`time_zone_known=False`, never presented as UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from . import http, oauth
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
from .localtime import LocalTime, place_local_time
from .numbers import normalize_tracking_number
from .parsing import (
    as_list,
    as_mapping,
    json_or_none,
    parse_utc_offset,
    place,
    scalar_text,
)
from .statuses import Status
from .ups_codes import ACTIVITY_TYPES, STATUS_CODES

logger = logging.getLogger(__name__)

CARRIER = "ups"
REAL_BASE = "https://onlinetools.ups.com"
TOKEN_PATH = "/security/v1/oauth/token"  # noqa: S105 - a URL path, not a secret
TRACK_PATH = "/api/track/v1/details/{number}"
TRANSACTION_SOURCE = "resync"

NOT_FOUND_WARNINGS = frozenset({"TW0001"})

S = Status

# deliveryDate types that are a forecast (SDD scheduled, RDD rescheduled; DEL is the actual).
_ETA_DATE_TYPES = ("RDD", "SDD")


# --- Parse half -----------------------------------------------------------------------------------


def map_status(status: Mapping[str, Any]) -> Status:
    """A UPS `Status` object → normalised status (3-digit code, else activity type)."""
    code = _code(status.get("statusCode"))
    kind = scalar_text(status.get("type")).upper()
    if code:
        found = STATUS_CODES.get(code)
        if found is not None:
            return found
        logger.warning("ups: unknown statusCode %r (type %r)", code, kind)
    found = ACTIVITY_TYPES.get(kind)
    if found is not None:
        return found
    logger.warning("ups: unknown activity type %r, treated as %s", kind, S.PENDING.value)
    return S.PENDING


def parse_offset(value: Any) -> dt.timezone | None:
    """ "-05:00", "-5:00", "+0530" → a fixed offset; None when absent or unreadable."""
    return parse_utc_offset(value)


def parse_activity_time(activity: Mapping[str, Any]) -> dt.datetime | None:
    """When a scan happened, aware; None (and a log line) when no date is readable."""
    when = activity_time(activity)
    return when.occurred_at if when is not None else None


def activity_time(activity: Mapping[str, Any]) -> LocalTime | None:
    """When a scan happened: exact from the UTC fields or the offset, else the local `date` +
    `time` read in the zone of the scan's country and state (`localtime.place_local_time`,
    `zone_known` False when that zone cannot be told). None (and a log line) when unreadable."""
    offset = parse_offset(activity.get("gmtOffset"))
    if scalar_text(activity.get("gmtDate")) and scalar_text(activity.get("gmtTime")):
        utc = _combine(activity.get("gmtDate"), activity.get("gmtTime"))
        if utc is not None:
            aware = utc.replace(tzinfo=dt.UTC)
            return _exact(aware.astimezone(offset) if offset is not None else aware)
        logger.warning(
            "ups: unreadable gmtDate %r / gmtTime %r, using the local time",
            activity.get("gmtDate"),
            activity.get("gmtTime"),
        )
    local = _combine(activity.get("date"), activity.get("time"))
    if local is not None:
        if offset is not None:
            return _exact(local.replace(tzinfo=offset))
        address = as_mapping(as_mapping(activity.get("location")).get("address"))
        country = scalar_text(address.get("countryCode")) or scalar_text(address.get("country"))
        return place_local_time(local, country, scalar_text(address.get("stateProvince")))
    logger.warning(
        "ups: unreadable activity time (date %r, time %r, gmtDate %r, gmtTime %r)",
        activity.get("date"),
        activity.get("time"),
        activity.get("gmtDate"),
        activity.get("gmtTime"),
    )
    return None


def _exact(moment: dt.datetime) -> LocalTime:
    return LocalTime(moment, True, None)


def parse_activity(activity: Mapping[str, Any]) -> TrackingEventData | None:
    """One `activity` entry; None when it has no readable time."""
    when = activity_time(activity)
    if when is None:
        return None
    status = as_mapping(activity.get("status"))
    location = as_mapping(activity.get("location"))
    return TrackingEventData(
        occurred_at=when.occurred_at,
        wall_clock=when.wall_clock,
        time_zone_known=when.zone_known,
        status=map_status(status),
        description=scalar_text(status.get("description"))
        or scalar_text(status.get("simplifiedTextDescription")),
        location=_place(location.get("address")),
        raw_code=scalar_text(status.get("statusCode")) or scalar_text(status.get("type")),
    )


def parse_package(package: Mapping[str, Any], *, tracking_number: str) -> TrackingResult:
    """One `package` → `TrackingResult` for the number we asked about."""
    pairs: list[tuple[Mapping[str, Any], TrackingEventData]] = []
    for raw in as_list(package.get("activity")):
        event = parse_activity(raw) if isinstance(raw, Mapping) else None
        if event is not None:
            pairs.append((as_mapping(raw.get("status")), event))
    pairs.sort(key=lambda pair: pair[1].occurred_at, reverse=True)

    current = as_mapping(package.get("currentStatus"))
    if not (scalar_text(current.get("statusCode")) or scalar_text(current.get("type"))):
        current = pairs[0][0] if pairs else {}
    addresses = {
        scalar_text(entry.get("type")).upper(): _place(entry.get("address"))
        for entry in as_list(package.get("packageAddress"))
        if isinstance(entry, Mapping)
    }
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=map_status(current) if current else S.PENDING,
        sub_status=scalar_text(current.get("simplifiedTextDescription")),
        raw_status_code=scalar_text(current.get("statusCode")) or scalar_text(current.get("type")),
        raw_status_text=scalar_text(current.get("description")),
        estimated_delivery=_estimated_delivery(package),
        origin=addresses.get("ORIGIN", ""),
        destination=addresses.get("DESTINATION", ""),
        events=tuple(event for _, event in pairs),
    )


def parse_track_response(payload: Any, *, requested: list[str]) -> BatchOutcome:
    """A 200 body → a result or an error for each requested number.

    A package answers a number when its `trackingNumber` is that number, else the first package
    of the shipment whose `inquiryNumber` is; with one number asked, the first package does.
    A shipment without packages (warning TW0001) means the number is unknown.
    """
    if not isinstance(payload, Mapping):
        raise CarrierUnavailable("ups: unreadable response", carrier=CARRIER)
    track = payload.get("trackResponse")
    if not isinstance(track, Mapping):
        if _errors(payload):
            error = error_for_response(400, payload, tracking_number=", ".join(requested))
            return BatchOutcome(errors=dict.fromkeys(requested, error))
        raise CarrierUnavailable("ups: response without trackResponse", carrier=CARRIER)

    shipments = [s for s in as_list(track.get("shipment")) if isinstance(s, Mapping)]
    packages = [
        (shipment, package)
        for shipment in shipments
        for package in as_list(shipment.get("package"))
        if isinstance(package, Mapping)
    ]
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number in requested:
        package = _find_package(packages, number)
        if package is None and len(requested) == 1 and packages:
            package = packages[0][1]
        if package is not None:
            results[number] = parse_package(package, tracking_number=number)
            continue
        warnings = [
            w for s in shipments for w in as_list(s.get("warnings")) if isinstance(w, Mapping)
        ]
        known = [w for w in warnings if scalar_text(w.get("code")).upper() in NOT_FOUND_WARNINGS]
        detail = "; ".join(
            f"{scalar_text(w.get('code'))} {scalar_text(w.get('message'))}".strip()
            for w in known or warnings
        )
        errors[number] = TrackingNumberNotFound(
            f"ups: {number}: {detail or 'no package in the response'}", carrier=CARRIER
        )
    return BatchOutcome(results=results, errors=errors)


def _find_package(
    packages: list[tuple[Mapping[str, Any], Mapping[str, Any]]], number: str
) -> Mapping[str, Any] | None:
    wanted = normalize_tracking_number(number)
    for _, package in packages:
        if normalize_tracking_number(scalar_text(package.get("trackingNumber"))) == wanted:
            return package
    for shipment, package in packages:
        if normalize_tracking_number(scalar_text(shipment.get("inquiryNumber"))) == wanted:
            return package
    return None


def error_for_response(status_code: int, payload: Any, *, tracking_number: str) -> CarrierError:
    """A 4xx that `http.send` let through: 404 → not found, else rejected (TV1002 invalid)."""
    errors = _errors(payload)
    detail = "; ".join(
        f"{scalar_text(e.get('code'))} {scalar_text(e.get('message'))}".strip() for e in errors
    ) or (f"HTTP {status_code}")
    codes = {scalar_text(e.get("code")).upper() for e in errors}
    if status_code == 404 or codes & NOT_FOUND_WARNINGS:
        return TrackingNumberNotFound(f"ups: {tracking_number}: {detail}", carrier=CARRIER)
    return CarrierRejected(
        f"ups: {tracking_number} refused ({status_code}): {detail}", carrier=CARRIER
    )


def _errors(payload: Any) -> list[Mapping[str, Any]]:
    """`{"response": {"errors": [{code, message}]}}` → the error objects."""
    response = payload.get("response") if isinstance(payload, Mapping) else None
    errors = response.get("errors") if isinstance(response, Mapping) else None
    return [e for e in as_list(errors) if isinstance(e, Mapping)]


def _estimated_delivery(package: Mapping[str, Any]) -> dt.datetime | None:
    """The rescheduled, else scheduled, delivery date; time = end of the promised window."""
    dates = {
        scalar_text(entry.get("type")).upper(): scalar_text(entry.get("date"))
        for entry in as_list(package.get("deliveryDate"))
        if isinstance(entry, Mapping)
    }
    window = as_mapping(package.get("deliveryTime"))
    clock = ""
    if scalar_text(window.get("type")).upper() != "DEL":
        clock = scalar_text(window.get("endTime")) or scalar_text(window.get("startTime"))
    for kind in _ETA_DATE_TYPES:
        if dates.get(kind):
            moment = _combine(dates[kind], clock or "000000")
            if moment is None:
                logger.warning("ups: unreadable delivery date %r / time %r", dates[kind], clock)
                return None
            return moment.replace(tzinfo=dt.UTC)
    return None


def _combine(date: Any, time: Any) -> dt.datetime | None:
    """ "YYYYMMDD" + "HHMMSS" (zero-filled) or "HH:MM:SS" → naive datetime, None if unreadable."""
    day, clock = scalar_text(date), _clock(time)
    if len(day) != 8 or not day.isdigit() or len(clock) != 6 or not clock.isdigit():
        return None
    try:
        return dt.datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _clock(value: Any) -> str:
    """A time as six digits: "74700" → "074700", "07:47:00" (or "7:47") → "074700"."""
    clock = scalar_text(value)
    if ":" not in clock:
        return clock.zfill(6)
    parts = clock.split(":")
    if not 2 <= len(parts) <= 3 or not all(part.isdigit() and len(part) <= 2 for part in parts):
        return ""
    return "".join(part.zfill(2) for part in (*parts, "00")[:3])


def _place(address: Any) -> str:
    """A UPS address → "Chicago, IL, US"."""
    if not isinstance(address, Mapping):
        return ""
    return place(
        scalar_text(address.get("city")),
        scalar_text(address.get("stateProvince")),
        country=scalar_text(address.get("countryCode")) or scalar_text(address.get("country")),
    )


def _code(value: Any) -> str:
    code = scalar_text(value)
    return code.zfill(3) if code.isdigit() else code


# --- Network half ---------------------------------------------------------------------------------


class UPSAdapter(CarrierAdapter):
    code = CARRIER

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = http.unique_numbers(tracking_numbers)
        if not numbers:
            return BatchOutcome()
        client_id, client_secret = oauth.client_credentials(CARRIER)
        base = http.base_url(CARRIER, REAL_BASE)
        tokens = oauth.TokenHolder(
            CARRIER,
            base_url=base,
            client_id=client_id,
            fetch=partial(self.fetch_token, base, client_id, client_secret),
        )
        outcomes = tokens.fan_out(partial(self._track_one, base), numbers)
        return http.collect_outcomes(outcomes.items())

    def fetch_token(self, base: str, client_id: str, client_secret: str) -> tuple[str, float]:
        """A new access token and its lifetime in seconds (UPS sends both as strings)."""
        response = http.send(
            CARRIER,
            "POST",
            f"{base}{TOKEN_PATH}",
            limited=False,
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            detail = error_for_response(
                response.status_code, json_or_none(response), tracking_number="token"
            ).message
            raise InvalidCredentials(f"ups: token refused: {detail}", carrier=CARRIER)
        return oauth.read_token(CARRIER, http.json_body(CARRIER, response))

    def _track_one(self, base: str, token: str, number: str) -> TrackingResult:
        response = http.send(
            CARRIER,
            "GET",
            f"{base}{TRACK_PATH.format(number=quote(number, safe=''))}",
            params={
                "locale": "en_US",
                "returnSignature": "false",
                "returnMilestones": "false",
                "returnPOD": "false",
            },
            headers={
                "Authorization": f"Bearer {token}",
                "transId": uuid.uuid4().hex,
                "transactionSrc": TRANSACTION_SOURCE,
                "Accept": "application/json",
            },
        )
        if response.status_code != 200:
            raise error_for_response(
                response.status_code, json_or_none(response), tracking_number=number
            )
        outcome = parse_track_response(http.json_body(CARRIER, response), requested=[number])
        return http.result_for(number, outcome)
