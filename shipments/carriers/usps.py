"""USPS Tracking API v3: OAuth client credentials, one GET per tracking number.

Parse half: `parse_tracking(payload, tracking_number=...)` turns the `expand=DETAIL` body into a
`TrackingResult`. Real USPS answers deviate from the published spec (docs/carriers.md §4):
booleans come as the strings "true"/"false" (so none is ever read for its truthiness here), some
keys differ in casing (`uniqueMailPieceID` vs `…Id`, `RRAMEnabled` vs `RRAMenabled`), `GMTOffset`
may lack zero padding ("-7:00"), values may be null. Keys are therefore looked up
case-insensitively, and nothing here relies on the spec's enums (`mailClass`, `mailType`).

Network half: `USPSAdapter.track()` takes one token (Redis-cached, shared by every process), then
fans the numbers out, one GET each. A 404 `ErrorMessage` means the number is unknown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from . import http, oauth
from .base import (
    BatchOutcome,
    CarrierAdapter,
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from .parsing import json_or_none, newest_first, parse_iso_datetime, parse_utc_offset, place, text
from .statuses import Status

logger = logging.getLogger(__name__)

CARRIER = "usps"
REAL_BASE = "https://apis.usps.com"
TOKEN_PATH = "/oauth2/v3/token"  # noqa: S105 - a URL path, not a secret
TRACK_PATH = "/tracking/v3/tracking/{number}"
TOKEN_SCOPE = "tracking"  # noqa: S105 - an OAuth scope name

S = Status

# USPS event codes (Publication 199, docs/carriers.md §4) → normalised status. Exact codes only.
EVENT_CODES: dict[str, Status] = {
    # Shipping label created / manifest / electronic data
    "GX": S.INFO_RECEIVED,
    "MA": S.INFO_RECEIVED,
    "TM": S.INFO_RECEIVED,
    "PA": S.INFO_RECEIVED,
    # Accepted, processed, arrived, departed, in transit to the next facility
    "03": S.IN_TRANSIT,
    "06": S.IN_TRANSIT,
    "07": S.IN_TRANSIT,
    "08": S.IN_TRANSIT,
    "10": S.IN_TRANSIT,
    "15": S.IN_TRANSIT,
    "19": S.IN_TRANSIT,
    "41": S.IN_TRANSIT,
    "42": S.IN_TRANSIT,
    "80": S.IN_TRANSIT,
    "81": S.IN_TRANSIT,
    "82": S.IN_TRANSIT,
    "PC": S.IN_TRANSIT,
    "EF": S.IN_TRANSIT,
    "SF": S.IN_TRANSIT,
    "A1": S.IN_TRANSIT,
    "T1": S.IN_TRANSIT,
    "TL": S.IN_TRANSIT,
    "OF": S.OUT_FOR_DELIVERY,
    # Delivery attempted / notice left / business closed / no access / rescheduled
    "02": S.FAILED_ATTEMPT,
    "30": S.FAILED_ATTEMPT,
    "51": S.FAILED_ATTEMPT,
    "52": S.FAILED_ATTEMPT,
    "53": S.FAILED_ATTEMPT,
    "54": S.FAILED_ATTEMPT,
    "55": S.FAILED_ATTEMPT,
    "56": S.FAILED_ATTEMPT,
    "71": S.FAILED_ATTEMPT,
    "14": S.AVAILABLE_FOR_PICKUP,
    "16": S.AVAILABLE_FOR_PICKUP,
    "01": S.DELIVERED,
    "17": S.DELIVERED,
    "43": S.DELIVERED,
    # Refused, undeliverable as addressed, return-to-sender reasons
    "04": S.EXCEPTION,
    "05": S.EXCEPTION,
    "09": S.EXCEPTION,
    "11": S.EXCEPTION,
    "21": S.EXCEPTION,
    "22": S.EXCEPTION,
    "23": S.EXCEPTION,
    "24": S.EXCEPTION,
    "25": S.EXCEPTION,
    "26": S.EXCEPTION,
    "27": S.EXCEPTION,
    "28": S.EXCEPTION,
    "29": S.EXCEPTION,
    "31": S.EXCEPTION,
    "44": S.EXCEPTION,
}

DEFAULT_STATUS = S.PENDING


# --- Parse half ----------------------------------------------------------------------------------


def get_field(obj: Mapping[str, Any] | None, name: str) -> Any:
    """`obj[name]`, else the value of the first key equal to `name` ignoring case, else None."""
    if not obj:
        return None
    if name in obj:
        return obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def map_event_code(code: str) -> Status:
    """The normalised status of a USPS event code; unknown codes are logged and map to pending."""
    status = EVENT_CODES.get(code)
    if status is None:
        logger.warning("usps: unknown event code %r, using %s", code, DEFAULT_STATUS.value)
        return DEFAULT_STATUS
    return status


def _event_code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"
    return text(value).upper()


def _offset(value: Any) -> dt.timezone | None:
    """`GMTOffset` ("-05:00", and "-7:00" as in the spec's own example) as a fixed zone."""
    return parse_utc_offset(value, sign_required=True)


def _parse_datetime(value: Any, *, what: str, naive_as_utc: bool = False) -> dt.datetime | None:
    """An ISO 8601 value, naive ones kept naive unless asked; malformed ones logged → None."""
    return parse_iso_datetime(
        value, what=what, carrier=CARRIER, log=logger, naive_as_utc=naive_as_utc
    )


def _event_time(event: Mapping[str, Any]) -> dt.datetime | None:
    """UTC `GMTTimestamp` first (shown in the event's own offset), else the local timestamp."""
    offset = _offset(get_field(event, "GMTOffset"))
    gmt = _parse_datetime(get_field(event, "GMTTimestamp"), what="GMTTimestamp", naive_as_utc=True)
    if gmt is not None:
        return gmt.astimezone(offset) if offset is not None else gmt
    local = _parse_datetime(get_field(event, "eventTimestamp"), what="eventTimestamp")
    if local is None:
        return None
    if local.tzinfo is not None:
        return local
    if offset is not None:
        return local.replace(tzinfo=offset)
    logger.info("usps: event time %s has no offset, read as UTC", local.isoformat())
    return local.replace(tzinfo=dt.UTC)


def _place(city: Any, state: Any, postal_code: Any = None, country: Any = None) -> str:
    return place(text(city), text(state), text(postal_code), text(country))


def parse_event(event: Mapping[str, Any]) -> TrackingEventData | None:
    """One `trackingEvents` entry, or None (logged) when it has no readable time."""
    occurred_at = _event_time(event)
    if occurred_at is None:
        logger.warning("usps: skipping an event without a readable time: %r", dict(event))
        return None
    code = _event_code(get_field(event, "eventCode"))
    return TrackingEventData(
        occurred_at=occurred_at,
        status=map_event_code(code) if code else DEFAULT_STATUS,
        description=text(get_field(event, "eventType")),
        location=_place(
            get_field(event, "eventCity"),
            get_field(event, "eventState"),
            get_field(event, "eventZIP"),
            get_field(event, "eventCountry"),
        ),
        raw_code=code,
    )


# Estimated delivery: the expected date first, then USPS's prediction, then the guarantee.
_ESTIMATE_FIELDS = (
    "expectedDeliveryTimeStamp",
    "predictedDeliveryDate",
    "guaranteedDeliveryTimeStamp",
)


def _estimated_delivery(payload: Mapping[str, Any]) -> dt.datetime | None:
    for name in _ESTIMATE_FIELDS:
        value = _parse_datetime(get_field(payload, name), what=name, naive_as_utc=True)
        if value is not None:
            return value
    return None


def parse_tracking(payload: Mapping[str, Any], *, tracking_number: str) -> TrackingResult:
    """A USPS `TrackingDetails` body (expand=DETAIL) → `TrackingResult`, events newest first.

    The shipment's status is that of its newest event (no events: pending).
    """
    raw_events = get_field(payload, "trackingEvents") or []
    if not isinstance(raw_events, list):
        raw_events = []
    parsed = (parse_event(e) for e in raw_events if isinstance(e, Mapping))
    # Events at the same instant keep the carrier's (newest-first) order.
    events = newest_first(e for e in parsed if e is not None)
    latest = events[0] if events else None
    status_text = text(get_field(payload, "status")) or text(get_field(payload, "statusCategory"))
    if not status_text and latest is not None:
        status_text = latest.description
    return TrackingResult(
        carrier=CARRIER,
        tracking_number=tracking_number,
        status=latest.status if latest else DEFAULT_STATUS,
        sub_status="",
        raw_status_code=latest.raw_code if latest else "",
        raw_status_text=status_text,
        estimated_delivery=_estimated_delivery(payload),
        origin=_place(
            get_field(payload, "originCity"),
            get_field(payload, "originState"),
            get_field(payload, "originZIP"),
            get_field(payload, "originCountry"),
        ),
        destination=_place(
            get_field(payload, "destinationCity"),
            get_field(payload, "destinationState"),
            get_field(payload, "destinationZIP"),
            get_field(payload, "destinationCountryCode"),
        ),
        events=events,
    )


def error_message(payload: Any) -> str:
    """The human message of a USPS `ErrorMessage` body (`{"apiVersion", "error": {...}}`)."""
    if not isinstance(payload, Mapping):
        return ""
    error = payload.get("error")
    if isinstance(error, Mapping):
        message = text(error.get("message"))
        details = error.get("errors")
        if not message and isinstance(details, list) and details:
            first = details[0]
            if isinstance(first, Mapping):
                message = text(first.get("detail") or first.get("title"))
        return message
    # RFC 6749 token errors: {"error": "invalid_client", "error_description": "..."}
    return text(payload.get("error_description") or error)


# --- Network half --------------------------------------------------------------------------------


class USPSAdapter(CarrierAdapter):
    code = CARRIER

    def _credentials(self) -> dict[str, str]:
        return dict(settings.CARRIER_CREDENTIALS.get(CARRIER) or {})

    def fetch_token(self, base: str, credentials: Mapping[str, str]) -> tuple[str, float]:
        """POST the client-credentials grant; `(access_token, expires_in seconds)`."""
        response = http.send(
            CARRIER,
            "POST",
            f"{base}{TOKEN_PATH}",
            limited=False,
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.get("client_id", ""),
                "client_secret": credentials.get("client_secret", ""),
                "scope": TOKEN_SCOPE,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code == 400:
            # RFC 6749 §5.2: invalid_client / invalid_grant / invalid_scope … all ours to fix.
            message = error_message(json_or_none(response)) or "token request refused"
            raise InvalidCredentials(f"usps: {message}", carrier=CARRIER)
        if response.status_code != 200:
            raise CarrierUnavailable(
                f"usps: token endpoint answered {response.status_code}", carrier=CARRIER
            )
        body = http.json_body(CARRIER, response)
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not token or not isinstance(token, str):
            raise CarrierUnavailable("usps: token response without access_token", carrier=CARRIER)
        return token, oauth.expires_in(body)

    def _get(self, base: str, number: str, token: str) -> requests.Response:
        return http.send(
            CARRIER,
            "GET",
            f"{base}{TRACK_PATH.format(number=quote(number, safe=''))}",
            params={"expand": "DETAIL"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def _track_one(self, base: str, tokens: oauth.TokenHolder, number: str) -> TrackingResult:
        return self._read(number, tokens.call(partial(self._get, base, number)))

    def _read(self, number: str, response: requests.Response) -> TrackingResult:
        if response.status_code == 200:
            body = http.json_body(CARRIER, response)
            if not isinstance(body, Mapping):
                raise CarrierUnavailable("usps: unexpected response body", carrier=CARRIER)
            return parse_tracking(body, tracking_number=number)
        message = error_message(json_or_none(response))
        if response.status_code == 404:
            raise TrackingNumberNotFound(
                f"usps: {message or 'tracking number not found'}", carrier=CARRIER
            )
        if 400 <= response.status_code < 500:
            raise CarrierRejected(
                f"usps: request refused ({response.status_code}) {message}".rstrip(),
                carrier=CARRIER,
            )
        raise CarrierUnavailable(f"usps: unexpected status {response.status_code}", carrier=CARRIER)

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        numbers = list(dict.fromkeys(tracking_numbers))
        if not numbers:
            return BatchOutcome()
        base = http.base_url(CARRIER, REAL_BASE)
        credentials = self._credentials()
        tokens = oauth.TokenHolder(
            CARRIER,
            base_url=base,
            client_id=credentials.get("client_id", ""),
            fetch=lambda: self.fetch_token(base, credentials),
        )
        one = partial(self._track_one, base, tokens)
        return http.collect_outcomes(http.fan_out(one, numbers))
