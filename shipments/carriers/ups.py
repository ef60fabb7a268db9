"""UPS Track API: OAuth client credentials, one GET per inquiry number.

Parse half (pure, no I/O): `parse_track_response(payload, requested=[...])` turns a 200 body
into a `BatchOutcome`; `parse_package` does one `package`; `error_for_response` classifies the
`{"response": {"errors": [...]}}` body of a 4xx.

Status: the 3-digit Status/Description code (`status.statusCode`, e.g. "021") is looked up in
`STATUS_CODES`. An unknown code is logged and falls back to its activity type (`status.type`,
`ACTIVITY_TYPES`: "I" → in transit, ...); an unknown type too → pending.

What the published spec does not say but real answers do (FORMATS.md §2):
* An unknown number is HTTP 200 with warning `TW0001` and no `package` → not found.
* An invalid number is HTTP 400 with error `TV1002` → rejected.
* Activity type `P` (pickup) is not in the appendix but is sent → in transit.
* `gmtTime` may lose its leading zero ("74700"); times are zero-filled to six digits.

Time: `gmtDate`+`gmtTime` are UTC (shown in the scan's `gmtOffset`); without them the local
`date`+`time` is read in `gmtOffset`, and without an offset as UTC.
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

logger = logging.getLogger(__name__)

CARRIER = "ups"
REAL_BASE = "https://onlinetools.ups.com"
TOKEN_PATH = "/security/v1/oauth/token"  # noqa: S105 - a URL path, not a secret
TRACK_PATH = "/api/track/v1/details/{number}"
TRANSACTION_SOURCE = "resync"

NOT_FOUND_WARNINGS = frozenset({"TW0001"})

S = Status

# Every code of the UPS "Status/Description Codes" appendix, zero-padded as the API sends them.
STATUS_CODES: dict[str, Status] = {
    "000": S.PENDING,  # Status Not Available
    "003": S.INFO_RECEIVED,  # Shipment Ready for UPS
    "005": S.IN_TRANSIT,  # On the Way
    "006": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "007": S.EXCEPTION,  # Shipment Information Voided
    "010": S.IN_TRANSIT,  # On the Way
    "011": S.DELIVERED,  # Delivered
    "012": S.IN_TRANSIT,  # Clearance in Progress
    "013": S.EXCEPTION,  # Exception
    "014": S.IN_TRANSIT,  # Clearance Completed
    "016": S.IN_TRANSIT,  # In Warehouse
    "017": S.AVAILABLE_FOR_PICKUP,  # Held for Customer Pickup
    "018": S.IN_TRANSIT,  # Delivery Change Requested: Hold for Pickup
    "019": S.IN_TRANSIT,  # Held for Future Delivery
    "020": S.IN_TRANSIT,  # Held for Future Delivery Requested
    "021": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "022": S.FAILED_ATTEMPT,  # First Attempt Made
    "023": S.FAILED_ATTEMPT,  # Second Delivery Attempted
    "024": S.FAILED_ATTEMPT,  # Final Attempt Made
    "025": S.IN_TRANSIT,  # On the Way
    "026": S.DELIVERED,  # Delivered by Local Post Office
    "027": S.IN_TRANSIT,  # Delivery Address Change Requested
    "028": S.IN_TRANSIT,  # Delivery Address Changed
    "029": S.EXCEPTION,  # Exception: Action Required
    "030": S.EXCEPTION,  # Local Post Office Exception
    "032": S.IN_TRANSIT,  # Adverse Weather May Cause Delay
    "033": S.EXCEPTION,  # Return to Sender Requested
    "034": S.EXCEPTION,  # Returned to Sender
    "035": S.EXCEPTION,  # Returning to Sender
    "036": S.EXCEPTION,  # Returning to Sender: In Transit
    "037": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "038": S.IN_TRANSIT,  # Picked Up by UPS
    "039": S.IN_TRANSIT,  # On the Way
    "040": S.AVAILABLE_FOR_PICKUP,  # Ready for Customer Pickup
    "041": S.IN_TRANSIT,  # Service Upgrade Requested
    "042": S.IN_TRANSIT,  # Service Upgraded
    "043": S.EXCEPTION,  # Voided Pickup
    "044": S.IN_TRANSIT,  # On the Way to UPS
    "045": S.IN_TRANSIT,  # On the Way to UPS
    "046": S.EXCEPTION,  # Delay
    "047": S.IN_TRANSIT,  # On the Way
    "048": S.EXCEPTION,  # Delay
    "049": S.EXCEPTION,  # Delay: Action Required
    "050": S.EXCEPTION,  # Address Information Required
    "051": S.EXCEPTION,  # Delay: Emergency Situation or Severe Weather
    "052": S.EXCEPTION,  # Delay: Severe Weather
    "053": S.EXCEPTION,  # Delay: Severe Weather
    "054": S.IN_TRANSIT,  # Delivery Change Requested
    "055": S.IN_TRANSIT,  # Rescheduled Delivery
    "056": S.IN_TRANSIT,  # Service Upgrade Requested
    "057": S.IN_TRANSIT,  # On the Way to a Local UPS Access Point
    "058": S.EXCEPTION,  # Clearance Information Required
    "059": S.EXCEPTION,  # Damage Reported
    "060": S.FAILED_ATTEMPT,  # Delivery Attempted
    "061": S.FAILED_ATTEMPT,  # Delivery Attempted: Adult Signature Required
    "062": S.FAILED_ATTEMPT,  # Delivery Attempted: Funds Required
    "063": S.IN_TRANSIT,  # Delivery Change Completed
    "064": S.EXCEPTION,  # Delivery Refused
    "065": S.INFO_RECEIVED,  # Pickup Attempted
    "066": S.FAILED_ATTEMPT,  # Post Office Delivery Attempted
    "067": S.EXCEPTION,  # Returned to Sender by Post Office
    "068": S.EXCEPTION,  # Sent to Lost and Found
    "069": S.EXCEPTION,  # Unable to Deliver
    "070": S.IN_TRANSIT,  # Package not at UPS Access Point yet
    "071": S.IN_TRANSIT,  # Preparing for Delivery
    "072": S.OUT_FOR_DELIVERY,  # Loaded on Delivery Vehicle
    "073": S.IN_TRANSIT,  # In Transit to UPS Delivery Partner
    "074": S.IN_TRANSIT,  # UPS Delivery Partner has Shipment
    "075": S.IN_TRANSIT,  # Scheduled for Delivery
    "076": S.EXCEPTION,  # UPS Delivery Partner Exception
    "077": S.INFO_RECEIVED,  # Scheduled for Pickup Today
    "078": S.OUT_FOR_DELIVERY,  # Your Driver is Arriving Soon!
    "079": S.INFO_RECEIVED,  # Order Processed: In Transit to UPS
    "080": S.INFO_RECEIVED,  # Order Processed: Ready for UPS
    "081": S.EXCEPTION,  # Returned - Damage Reported
    "082": S.IN_TRANSIT,  # Delivery Instructions Received
    "083": S.EXCEPTION,  # Held
    "084": S.IN_TRANSIT,  # Cleared
    "085": S.EXCEPTION,  # Held for COD Payment
    "086": S.EXCEPTION,  # Delay
    "087": S.IN_TRANSIT,  # On the Way
    "088": S.PENDING,  # Test
    "089": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "090": S.EXCEPTION,  # Delay
    "091": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "092": S.IN_TRANSIT,  # Customs Clearance in Progress
    "093": S.EXCEPTION,  # Premier Recovery In Progress
    "094": S.IN_TRANSIT,  # Premier Recovery Completed
    "095": S.IN_TRANSIT,  # Additional Attempt Requested
    "096": S.IN_TRANSIT,  # Address Change Confirmed
    "097": S.IN_TRANSIT,  # Address Change Requested
    "098": S.IN_TRANSIT,  # Deliver to Original Address Requested
    "099": S.IN_TRANSIT,  # Deliver to Original Address Confirmed
    "100": S.IN_TRANSIT,  # Hold at UPS Access Point Confirmed
    "101": S.IN_TRANSIT,  # Hold at UPS Access Point Requested
    "102": S.IN_TRANSIT,  # Hold for Courier Requested
    "103": S.IN_TRANSIT,  # Hold for Courier Confirmed
    "104": S.EXCEPTION,  # Hold for Instructions Confirmed
    "105": S.EXCEPTION,  # Hold for Instructions Requested
    "106": S.AVAILABLE_FOR_PICKUP,  # Hold for Pickup Confirmed
    "107": S.IN_TRANSIT,  # Hold for Pickup Requested
    "108": S.AVAILABLE_FOR_PICKUP,  # Hold for Pickup Today Confirmed
    "109": S.IN_TRANSIT,  # Hold for Pickup Today Requested
    "110": S.IN_TRANSIT,  # Refrigeration Confirmed
    "111": S.IN_TRANSIT,  # Refrigeration Requested
    "112": S.IN_TRANSIT,  # Re-Ice Confirmed
    "113": S.IN_TRANSIT,  # Re-Ice Requested
    "114": S.IN_TRANSIT,  # Request Canceled
    "115": S.IN_TRANSIT,  # Reschedule Delivery Confirmed
    "116": S.IN_TRANSIT,  # Reschedule Delivery Requested
    "117": S.EXCEPTION,  # Return by Saturday Confirmed
    "118": S.EXCEPTION,  # Return to Sender Confirmed
    "119": S.EXCEPTION,  # Return to Sender Requested
    "120": S.IN_TRANSIT,  # Saturday Delivery Confirmed
    "121": S.IN_TRANSIT,  # Saturday Delivery Requested
    "122": S.IN_TRANSIT,  # Upgrade Confirmed
    "123": S.IN_TRANSIT,  # Pending Release From Non-UPS Broker
    "124": S.EXCEPTION,  # Clearance Information Needed
    "125": S.EXCEPTION,  # Clearance Information Needed
    "126": S.IN_TRANSIT,  # Pending Government Agency Release
    "127": S.EXCEPTION,  # Investigation Closed
    "128": S.EXCEPTION,  # Investigation Canceled
    "129": S.EXCEPTION,  # Investigation Opened
    "130": S.EXCEPTION,  # Claim in Progress
    "131": S.INFO_RECEIVED,  # Final Pickup Attempted
    "132": S.EXCEPTION,  # Airport Security Delay
    "133": S.IN_TRANSIT,  # Return Label Left With Customer
    "134": S.IN_TRANSIT,  # Cleared Import Customs
    "135": S.INFO_RECEIVED,  # Second Pickup Attempted
    "136": S.IN_TRANSIT,  # Delivery Rescheduled for Saturday
    "137": S.IN_TRANSIT,  # Transferred to UPS Delivery Partner
    "138": S.IN_TRANSIT,  # Awaiting Scheduled Departure
    "139": S.EXCEPTION,  # Security Access Required
    "140": S.EXCEPTION,  # Claim Paid
    "141": S.EXCEPTION,  # Incomplete Documentation Received
    "142": S.EXCEPTION,  # Claim Voided
    "143": S.DELIVERED,  # Delivered to Agent
    "144": S.AVAILABLE_FOR_PICKUP,  # Delivered to Post Office for Pickup
    "145": S.FAILED_ATTEMPT,  # Delivery Attempted
    "146": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "147": S.EXCEPTION,  # Seized by Law Enforcement
    "148": S.PENDING,  # Package Information Unavailable
    "149": S.EXCEPTION,  # Prohibited Contents, Package Destroyed
    "153": S.IN_TRANSIT,  # Updated Delivery Time
    "154": S.IN_TRANSIT,  # Updated Delivery Date
    "155": S.DELIVERED,  # Delivery Photo
    "156": S.DELIVERED,  # Commercial Inside Release
    "157": S.INFO_RECEIVED,  # Shipment Ready for UPS
    "158": S.IN_TRANSIT,  # On the Way
    "159": S.IN_TRANSIT,  # On the Way
    "160": S.IN_TRANSIT,  # We Have Your Package
    "161": S.AVAILABLE_FOR_PICKUP,  # Delivered to UPS Access Point
    "162": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "163": S.PENDING,  # Package Information Unavailable
    "164": S.IN_TRANSIT,  # On the Way
    "165": S.IN_TRANSIT,  # On the Way
    "166": S.INFO_RECEIVED,  # Shipment Ready for Roadie
    "167": S.IN_TRANSIT,  # Dropped off at UPS Store by Customer
    "168": S.IN_TRANSIT,  # Dropped off at Retail Location by Customer
    "169": S.IN_TRANSIT,  # Dropped off at a UPS Access Point by Customer
}

# Package activity types: the fallback when the 3-digit code is missing or unknown.
ACTIVITY_TYPES: dict[str, Status] = {
    "M": S.INFO_RECEIVED,  # Billing Information Received
    "MV": S.EXCEPTION,  # Billing Information Voided
    "P": S.IN_TRANSIT,  # Pickup (not in the appendix, sent nonetheless)
    "I": S.IN_TRANSIT,  # In Transit, Out for Delivery
    "DO": S.IN_TRANSIT,  # Delivered Origin CFS (freight)
    "DD": S.IN_TRANSIT,  # Delivered Destination CFS (freight)
    "W": S.IN_TRANSIT,  # Warehousing (freight)
    "U": S.IN_TRANSIT,  # Updates
    "X": S.EXCEPTION,  # Exception
    "D": S.DELIVERED,  # Delivered
    "NA": S.PENDING,  # Not Available
}

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
    offset = parse_offset(activity.get("gmtOffset"))
    if scalar_text(activity.get("gmtDate")) and scalar_text(activity.get("gmtTime")):
        utc = _combine(activity.get("gmtDate"), activity.get("gmtTime"))
        if utc is not None:
            aware = utc.replace(tzinfo=dt.UTC)
            return aware.astimezone(offset) if offset is not None else aware
        logger.warning(
            "ups: unreadable gmtDate %r / gmtTime %r, using the local time",
            activity.get("gmtDate"),
            activity.get("gmtTime"),
        )
    local = _combine(activity.get("date"), activity.get("time"))
    if local is not None:
        return local.replace(tzinfo=offset or dt.UTC)
    logger.warning(
        "ups: unreadable activity time (date %r, time %r, gmtDate %r, gmtTime %r)",
        activity.get("date"),
        activity.get("time"),
        activity.get("gmtDate"),
        activity.get("gmtTime"),
    )
    return None


def parse_activity(activity: Mapping[str, Any]) -> TrackingEventData | None:
    """One `activity` entry; None when it has no readable time."""
    occurred_at = parse_activity_time(activity)
    if occurred_at is None:
        return None
    status = as_mapping(activity.get("status"))
    location = as_mapping(activity.get("location"))
    return TrackingEventData(
        occurred_at=occurred_at,
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
    """ "YYYYMMDD" + "HHMMSS" (zero-filled) → naive datetime, None if unreadable."""
    day, clock = scalar_text(date), scalar_text(time).zfill(6)
    if len(day) != 8 or not day.isdigit() or len(clock) != 6 or not clock.isdigit():
        return None
    try:
        return dt.datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        return None


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
