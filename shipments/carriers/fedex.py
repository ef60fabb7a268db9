"""FedEx Track API: OAuth client credentials, up to 30 numbers per POST.

Parse half (pure, no I/O): `parse_track_response(payload, requested=[...])` turns a 200 body
into a `BatchOutcome`; `parse_track_result` does one `trackResults[]` element;
`error_for_response` classifies the `{"errors": [...]}` body of a 4xx.

Status: the tracking status code (`latestStatusDetail.code`, `scanEvents[].eventType`) is looked
up in `STATUS_CODES`; when it is missing or unknown (logged), the coarser derived code
(`derivedCode` / `derivedStatusCode`, e.g. "IT", "IN") is looked up in the same table; when that
fails too → pending. The detailed code goes first because the derived one hides some states
(a "ready for pickup" scan carries derived code "IT").

What the published spec does not say but real answers do (docs/carriers.md §3):
* An unknown number is HTTP 200 with a per-result `error` (TRACKING.TRACKINGNUMBER.NOTFOUND).
* A number can have several `trackResults` (reused numbers): the most recent one is taken.
* `dateAndTimes[].dateTime` comes with or without an offset; without one it is read as UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from . import catalogue, http, oauth
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
    parse_iso_datetime,
    place,
    scalar_text,
)
from .statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "fedex"
REAL_BASE = "https://apis.fedex.com"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret
TRACK_PATH = "/track/v1/trackingnumbers"
MAX_NUMBERS_PER_REQUEST = catalogue.BY_CODE[CARRIER].batch_size

NOT_FOUND_ERRORS = frozenset({"TRACKING.TRACKINGNUMBER.NOTFOUND"})

S = Status

# FedEx tracking status codes, plus the derived codes seen in real answers (IN, OW, RL, AE).
STATUS_CODES: dict[str, Status] = {
    # Not yet with FedEx
    "OC": S.INFO_RECEIVED,  # Order Created / shipment information sent to FedEx
    "IN": S.INFO_RECEIVED,  # derived: Label created
    "EP": S.INFO_RECEIVED,  # Enroute to Pickup
    "RP": S.INFO_RECEIVED,  # Return label link emailed to return sender
    "RG": S.INFO_RECEIVED,  # Return label link expiring soon
    # Moving
    "PU": S.IN_TRANSIT,  # Picked Up
    "PX": S.IN_TRANSIT,  # Picked up (see Details)
    "AP": S.IN_TRANSIT,  # At Pickup
    "IT": S.IN_TRANSIT,  # In Transit
    "IX": S.IN_TRANSIT,  # In transit (see Details)
    "OW": S.IN_TRANSIT,  # On the way
    "AR": S.IN_TRANSIT,  # Arrived at FedEx location
    "AF": S.IN_TRANSIT,  # At local FedEx Facility
    "AA": S.IN_TRANSIT,  # At Airport
    "AC": S.IN_TRANSIT,  # At Canada Post facility
    "AX": S.IN_TRANSIT,  # At USPS facility
    "AO": S.IN_TRANSIT,  # Shipment arriving On-time
    "AE": S.IN_TRANSIT,  # Shipment arriving early
    "DP": S.IN_TRANSIT,  # Departed
    "DR": S.IN_TRANSIT,  # Vehicle furnished but not used
    "DS": S.IN_TRANSIT,  # Vehicle Dispatched
    "EA": S.IN_TRANSIT,  # Enroute to Airport / Export Approved
    "EO": S.IN_TRANSIT,  # Enroute to Origin Airport
    "FD": S.IN_TRANSIT,  # At FedEx Destination
    "LO": S.IN_TRANSIT,  # Left Origin
    "OF": S.IN_TRANSIT,  # At FedEx origin facility
    "OX": S.IN_TRANSIT,  # Shipment information sent to USPS
    "PF": S.IN_TRANSIT,  # Plane in Flight
    "PL": S.IN_TRANSIT,  # Plane Landed
    "PM": S.IN_TRANSIT,  # In Progress
    "SF": S.IN_TRANSIT,  # At Sort Facility
    "SP": S.IN_TRANSIT,  # Split Status
    "TR": S.IN_TRANSIT,  # Transfer
    "CC": S.IN_TRANSIT,  # Cleared Customs
    "CP": S.IN_TRANSIT,  # Clearance in Progress
    "CH": S.IN_TRANSIT,  # Location Changed
    "RR": S.IN_TRANSIT,  # CDO requested
    "RM": S.IN_TRANSIT,  # CDO Modified
    "RC": S.IN_TRANSIT,  # CDO Cancelled
    # Last mile
    "OD": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "ED": S.OUT_FOR_DELIVERY,  # Enroute to Delivery
    "AD": S.OUT_FOR_DELIVERY,  # At Delivery
    "DE": S.FAILED_ATTEMPT,  # Delivery Exception
    "HL": S.AVAILABLE_FOR_PICKUP,  # Hold at Location
    "HP": S.AVAILABLE_FOR_PICKUP,  # Ready for Recipient Pickup
    "DL": S.DELIVERED,  # Delivered
    # Trouble
    "SE": S.EXCEPTION,  # Shipment Exception
    "CA": S.EXCEPTION,  # Shipment Cancelled
    "RS": S.EXCEPTION,  # Return to Shipper
    "CD": S.EXCEPTION,  # Clearance Delay
    "DY": S.EXCEPTION,  # Delay
    "DD": S.EXCEPTION,  # Delivery Delay
    "PD": S.EXCEPTION,  # Pickup Delay
    "RL": S.EXCEPTION,  # derived: Running Late
    "RD": S.EXCEPTION,  # Return label link expired
    "LP": S.EXCEPTION,  # Return label link cancelled by shipment originator
}

# dateAndTimes types that forecast delivery, best first.
_ETA_TYPES = ("ESTIMATED_DELIVERY", "APPOINTMENT_DELIVERY", "COMMITMENT")
_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


# --- Parse half -----------------------------------------------------------------------------------


def map_status(code: Any, derived_code: Any = "") -> Status:
    """Tracking status code → normalised status; the derived code when the code is unknown."""
    code, derived = scalar_text(code).upper(), scalar_text(derived_code).upper()
    if code:
        found = STATUS_CODES.get(code)
        if found is not None:
            return found
        logger.warning("fedex: unknown status code %r (derived %r)", code, derived)
    if derived:
        found = STATUS_CODES.get(derived)
        if found is not None:
            return found
        logger.warning("fedex: unknown derived status code %r", derived)
    logger.warning("fedex: no usable status code (%r/%r), treated as pending", code, derived)
    return S.PENDING


def parse_timestamp(value: Any, *, what: str = "timestamp") -> dt.datetime | None:
    """ISO 8601 with offset (naive → UTC); None (and a log line) when unreadable."""
    return parse_iso_datetime(scalar_text(value), what=what, carrier=CARRIER, log=logger)


def parse_scan_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    """One `scanEvents[]` entry; None when its date is missing or unreadable."""
    occurred_at = parse_timestamp(event.get("date"), what="scan date")
    if occurred_at is None:
        if not scalar_text(event.get("date")):
            logger.warning("fedex: scan event without date skipped")
        return None
    description = scalar_text(event.get("eventDescription")) or scalar_text(
        event.get("derivedStatus")
    )
    exception = scalar_text(event.get("exceptionDescription"))
    if exception and exception != description:
        description = f"{description}: {exception}" if description else exception
    return TrackingEventData(
        occurred_at=occurred_at,
        status=map_status(event.get("eventType"), event.get("derivedStatusCode")),
        description=description,
        location=_place(event.get("scanLocation")),
        raw_code=scalar_text(event.get("eventType")) or scalar_text(event.get("derivedStatusCode")),
    )


def parse_track_result(result: Mapping[str, Any], *, tracking_number: str) -> TrackingResult:
    """One `trackResults[]` element (without `error`) → `TrackingResult`."""
    events = [
        event
        for event in (
            parse_scan_event(raw) for raw in as_list(result.get("scanEvents")) if _is_map(raw)
        )
        if event is not None
    ]
    events.sort(key=lambda event: event.occurred_at, reverse=True)

    latest = as_mapping(result.get("latestStatusDetail"))
    code, derived = scalar_text(latest.get("code")), scalar_text(latest.get("derivedCode"))
    text = scalar_text(latest.get("description")) or scalar_text(latest.get("statusByLocale"))
    if code or derived:
        status = map_status(code, derived)
    elif events:
        status, code, text = events[0].status, events[0].raw_code, events[0].description
    else:
        status = S.PENDING
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=status,
        sub_status=derived,
        raw_status_code=code,
        raw_status_text=text,
        estimated_delivery=_estimated_delivery(result),
        origin=_place(
            _location_address(result.get("originLocation"))
            or as_mapping(as_mapping(result.get("shipperInformation")).get("address"))
        ),
        destination=_place(
            _location_address(result.get("destinationLocation"))
            or as_mapping(result.get("lastUpdatedDestinationAddress"))
            or as_mapping(as_mapping(result.get("recipientInformation")).get("address"))
        ),
        events=tuple(events),
    )


def parse_complete_track_result(
    complete: Mapping[str, Any], *, tracking_number: str
) -> TrackingResult | CarrierError:
    """All `trackResults` of one number → the most recent shipment, or the per-result error."""
    candidates = [r for r in as_list(complete.get("trackResults")) if _is_map(r)]
    usable = [r for r in candidates if not _is_map(r.get("error"))]
    if not usable:
        error = as_mapping(candidates[0].get("error")) if candidates else {}
        return _result_error(error, tracking_number=tracking_number)
    parsed = [parse_track_result(r, tracking_number=tracking_number) for r in usable]
    # A reused number has one result per shipment: the latest scan wins (ties: FedEx's order).
    return max(parsed, key=lambda r: r.events[0].occurred_at if r.events else _OLDEST)


def parse_track_response(payload: Any, *, requested: list[str]) -> BatchOutcome:
    """A 200 body → a result or an error for each requested number.

    A number FedEx left out of its answer gets `CarrierUnavailable` (nothing was said about it).
    """
    output = payload.get("output") if isinstance(payload, Mapping) else None
    if not isinstance(output, Mapping):
        if isinstance(payload, Mapping) and as_list(payload.get("errors")):
            error = error_for_response(400, payload, tracking_numbers=requested)
            return BatchOutcome(errors=dict.fromkeys(requested, error))
        raise CarrierUnavailable("fedex: response without output", carrier=CARRIER)
    completes = [c for c in as_list(output.get("completeTrackResults")) if _is_map(c)]
    by_number = {
        normalize_tracking_number(scalar_text(c.get("trackingNumber"))): c for c in completes
    }
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number in requested:
        complete = by_number.get(normalize_tracking_number(number))
        if complete is None and len(requested) == 1 and len(completes) == 1:
            complete = completes[0]
        if complete is None:
            errors[number] = CarrierUnavailable(
                f"fedex: no result for {number} in the response", carrier=CARRIER
            )
            continue
        outcome = parse_complete_track_result(complete, tracking_number=number)
        if isinstance(outcome, CarrierError):
            errors[number] = outcome
        else:
            results[number] = outcome
    return BatchOutcome(results=results, errors=errors)


def error_for_response(
    status_code: int, payload: Any, *, tracking_numbers: list[str]
) -> CarrierError:
    """A 4xx that `http.send` let through (`{"errors": [{code, message}]}`) → rejected."""
    errors = [e for e in as_list(as_mapping(payload).get("errors")) if _is_map(e)]
    detail = "; ".join(
        f"{scalar_text(e.get('code'))} {scalar_text(e.get('message'))}".strip() for e in errors
    ) or (f"HTTP {status_code}")
    numbers = ", ".join(tracking_numbers)
    return CarrierRejected(f"fedex: {numbers} refused ({status_code}): {detail}", carrier=CARRIER)


def _result_error(error: Mapping[str, Any], *, tracking_number: str) -> CarrierError:
    code, message = scalar_text(error.get("code")), scalar_text(error.get("message"))
    detail = f"{code} {message}".strip() or "no result"
    if code.upper() in NOT_FOUND_ERRORS:
        return TrackingNumberNotFound(f"fedex: {tracking_number}: {detail}", carrier=CARRIER)
    return CarrierRejected(f"fedex: {tracking_number}: {detail}", carrier=CARRIER)


def _estimated_delivery(result: Mapping[str, Any]) -> dt.datetime | None:
    window = as_mapping(as_mapping(result.get("estimatedDeliveryTimeWindow")).get("window"))
    candidates = [window.get("ends"), window.get("begins")]
    dates = {
        scalar_text(entry.get("type")).upper(): entry.get("dateTime")
        for entry in as_list(result.get("dateAndTimes"))
        if _is_map(entry)
    }
    candidates += [dates.get(kind) for kind in _ETA_TYPES]
    for value in candidates:
        parsed = parse_timestamp(value, what="estimated delivery")
        if parsed is not None:
            return parsed
    return None


def _location_address(location: Any) -> Mapping[str, Any]:
    contact_and_address = as_mapping(as_mapping(location).get("locationContactAndAddress"))
    return as_mapping(contact_and_address.get("address"))


def _place(address: Any) -> str:
    """A FedEx address → "RENO, NV, US"."""
    address = as_mapping(address)
    return place(
        scalar_text(address.get("city")),
        scalar_text(address.get("stateOrProvinceCode")),
        country=scalar_text(address.get("countryCode")),
    )


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


# --- Network half ---------------------------------------------------------------------------------


class FedExAdapter(CarrierAdapter):
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
        size = MAX_NUMBERS_PER_REQUEST
        chunks = [tuple(numbers[i : i + size]) for i in range(0, len(numbers), size)]
        answers = tokens.fan_out(partial(self._track_chunk, base), chunks)

        outcomes: dict[str, TrackingResult | CarrierError] = {}
        for chunk, answer in answers.items():
            if isinstance(answer, CarrierError):
                outcomes.update(dict.fromkeys(chunk, answer))
            else:
                outcomes.update(answer.results)
                outcomes.update(answer.errors)
        return http.collect_outcomes((number, outcomes[number]) for number in numbers)

    def fetch_token(self, base: str, client_id: str, client_secret: str) -> tuple[str, float]:
        """A new access token and its lifetime in seconds."""
        response = http.send(
            CARRIER,
            "POST",
            f"{base}{TOKEN_PATH}",
            limited=False,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            detail = error_for_response(
                response.status_code, json_or_none(response), tracking_numbers=[]
            ).message
            raise InvalidCredentials(f"fedex: token refused: {detail}", carrier=CARRIER)
        return oauth.read_token(CARRIER, http.json_body(CARRIER, response))

    def _track_chunk(self, base: str, token: str, chunk: tuple[str, ...]) -> BatchOutcome:
        response = http.send(
            CARRIER,
            "POST",
            f"{base}{TRACK_PATH}",
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in chunk],
            },
            headers={
                "Authorization": f"Bearer {token}",
                "X-locale": "en_US",
                "x-customer-transaction-id": uuid.uuid4().hex,
                "Accept": "application/json",
            },
        )
        if response.status_code != 200:
            error = error_for_response(
                response.status_code, json_or_none(response), tracking_numbers=list(chunk)
            )
            return BatchOutcome(errors=dict.fromkeys(chunk, error))
        return parse_track_response(http.json_body(CARRIER, response), requested=list(chunk))
