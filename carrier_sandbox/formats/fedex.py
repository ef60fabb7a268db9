"""FedEx: `POST /oauth/token`, then `POST /track/v1/trackingnumbers` (up to 30 numbers).

The token request is a form with grant_type, client_id and client_secret. An unknown number is
a per-result `error` (TRACKING.TRACKINGNUMBER.NOTFOUND) inside a 200; request-level errors are
`{"transactionId", "errors": [{"code", "message"}]}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..geo import Place
from ..history import Event, Snapshot
from ..state import Fault
from .base import BadBody, Call, Reply, Route, iso, json_reply, route

CARRIER = "fedex"
TOKEN_LIFETIME = 3599
MAX_NUMBERS = 30

# kind → (eventType, derivedStatusCode, eventDescription, derivedStatus, locationType)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "pending": ("OC", "OC", "Shipment information sent to FedEx", "Label created", "CUSTOMER"),
    "label": ("OC", "OC", "Shipment information sent to FedEx", "Label created", "CUSTOMER"),
    "pickup": ("PU", "PU", "Picked up", "Picked up", "PICKUP_LOCATION"),
    "arrival": ("AR", "IT", "Arrived at FedEx location", "In transit", "FEDEX_FACILITY"),
    "processed": ("IT", "IT", "In transit", "In transit", "FEDEX_FACILITY"),
    "departure": ("DP", "IT", "Departed FedEx location", "In transit", "FEDEX_FACILITY"),
    "customs": (
        "CC",
        "IT",
        "International shipment release - Import",
        "In transit",
        "FEDEX_FACILITY",
    ),
    "in_transit": ("IT", "IT", "In transit", "In transit", "FEDEX_FACILITY"),
    "out_for_delivery": (
        "OD",
        "OD",
        "On FedEx vehicle for delivery",
        "Out for delivery",
        "VEHICLE",
    ),
    "attempt": ("DE", "DE", "Delivery exception", "Delivery exception", "DELIVERY_LOCATION"),
    "pickup_ready": (
        "HL",
        "HL",
        "At FedEx location, held for recipient pickup",
        "Ready for pickup",
        "FEDEX_FACILITY",
    ),
    "delivered": ("DL", "DL", "Delivered", "Delivered", "DELIVERY_LOCATION"),
    "collected": ("DL", "DL", "Delivered", "Delivered", "FEDEX_FACILITY"),
    "exception": ("SE", "SE", "Shipment exception", "Shipment exception", "FEDEX_FACILITY"),
    "returning": (
        "RS",
        "RS",
        "Returning package to shipper",
        "Return to shipper",
        "FEDEX_FACILITY",
    ),
    "expired": ("SE", "SE", "Tracking no longer updated", "Shipment exception", "FEDEX_FACILITY"),
}
REASONS: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("arrival", "delivery_unit"): (
        "AR",
        "IT",
        "At local FedEx facility",
        "In transit",
        "DESTINATION_FEDEX_FACILITY",
    ),
    ("pickup_ready", "pickup_point"): (
        "HP",
        "HP",
        "Ready for recipient pickup",
        "Ready for pickup",
        "PICKUP_LOCATION",
    ),
    ("exception", "weather"): ("DY", "DY", "Delay", "Delay", "FEDEX_FACILITY"),
    ("exception", "customs"): (
        "CD",
        "CD",
        "Clearance delay - Import",
        "Clearance delay",
        "FEDEX_FACILITY",
    ),
}
# (kind, reason) → (exceptionCode, exceptionDescription)
EXCEPTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("attempt", "no_one_home"): ("08", "Recipient not available; we will try again"),
    ("attempt", ""): ("08", "Recipient not available; we will try again"),
    ("exception", "address"): ("03", "Incorrect address"),
    ("exception", "damaged"): ("14", "Package damaged in transit"),
    ("exception", "weather"): ("71", "Severe weather delayed delivery"),
    ("exception", "customs"): ("A8", "Held by import customs"),
    ("exception", ""): ("", ""),
}


def errors(status: int, code: str, message: str) -> Reply:
    return json_reply(
        {"transactionId": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]},
        status,
    )


def _address(place: Place) -> dict[str, Any]:
    return {
        "city": place.city.upper(),
        "stateOrProvinceCode": place.region,
        "postalCode": place.postal,
        "countryCode": place.country,
        "residential": False,
        "countryName": place.country_name,
    }


def _codes(event: Event) -> tuple[str, str, str, str, str]:
    return REASONS.get((event.kind, event.reason), KINDS[event.kind])


def render_scan(event: Event) -> dict[str, Any]:
    event_type, derived, description, derived_text, location_type = _codes(event)
    exception_code, exception_text = EXCEPTIONS.get((event.kind, event.reason), ("", ""))
    return {
        "date": iso(event.occurred_at),
        "eventType": event_type,
        "eventDescription": event.description or description,
        "exceptionCode": exception_code,
        "exceptionDescription": exception_text,
        "scanLocation": {"streetLines": [""], **_address(event.place)},
        "locationId": "",
        "locationType": location_type,
        "derivedStatusCode": derived,
        "derivedStatus": derived_text,
    }


def render_result(number: str, snap: Snapshot, detailed: bool) -> dict[str, Any]:
    latest = snap.latest
    assert latest is not None
    event_type, derived, description, derived_text, _ = _codes(latest)
    carrier_code = "FDXE" if snap.plan.international else "FDXG"
    status_detail: dict[str, Any] = {
        "code": event_type,
        "derivedCode": derived,
        "statusByLocale": derived_text,
        "description": latest.description or description,
        "scanLocation": _address(latest.place),
    }
    exception_code, exception_text = EXCEPTIONS.get((latest.kind, latest.reason), ("", ""))
    if exception_code:
        status_detail["ancillaryDetails"] = [
            {
                "reason": exception_code,
                "reasonDescription": exception_text,
                "action": "",
                "actionDescription": "",
            }
        ]
    dates: list[dict[str, str]] = []
    delivered = snap.first("delivered", "collected")
    if delivered is not None:
        dates.append({"type": "ACTUAL_DELIVERY", "dateTime": iso(delivered.occurred_at)})
    pickup = snap.first("pickup")
    if pickup is not None:
        dates.append({"type": "ACTUAL_PICKUP", "dateTime": iso(pickup.occurred_at)})
        dates.append(
            {
                "type": "SHIP",
                "dateTime": iso(pickup.occurred_at.replace(hour=0, minute=0, second=0)),
            }
        )
    label = snap.first("label")
    if label is not None:
        dates.append({"type": "SHIPMENT_DATA_RECEIVED", "dateTime": iso(label.occurred_at)})
    result: dict[str, Any] = {
        "trackingNumberInfo": {
            "trackingNumber": number,
            "carrierCode": carrier_code,
            "trackingNumberUniqueId": f"12029~{number}~{carrier_code}",
        },
        "shipperInformation": {"address": _address(snap.origin)},
        "recipientInformation": {"address": _address(snap.destination)},
        "latestStatusDetail": status_detail,
        "dateAndTimes": dates,
        "packageDetails": {
            "count": "1",
            "weightAndDimensions": {
                "weight": [
                    {"value": f"{snap.plan.weight_kg:.1f}", "unit": "KG"},
                    {"value": f"{snap.plan.weight_kg * 2.20462:.1f}", "unit": "LB"},
                ]
            },
        },
        "shipmentDetails": {"possessionStatus": pickup is not None},
        "scanEvents": [render_scan(e) for e in snap.events] if detailed else [],
        "originLocation": {"locationContactAndAddress": {"address": _address(snap.origin)}},
        "destinationLocation": {
            "locationContactAndAddress": {"address": _address(snap.destination)}
        },
        "deliveryDetails": {"deliveryAttempts": str(snap.count("attempt"))},
        "serviceDetail": (
            {
                "type": "INTERNATIONAL_PRIORITY",
                "description": "FedEx International Priority",
                "shortDescription": "IP",
            }
            if snap.plan.international
            else {"type": "FEDEX_GROUND", "description": "FedEx Ground", "shortDescription": "FG"}
        ),
        "availableImages": [],
    }
    if delivered is not None and delivered.reason == "signed":
        result["deliveryDetails"]["receivedByName"] = "RECIPIENT"
    if snap.eta is not None:
        dates.append({"type": "ESTIMATED_DELIVERY", "dateTime": iso(snap.eta)})
        result["estimatedDeliveryTimeWindow"] = {
            "window": {"begins": iso(snap.eta.replace(hour=8)), "ends": iso(snap.eta)}
        }
    return result


def not_found(number: str) -> dict[str, Any]:
    return {
        "trackingNumberInfo": {
            "trackingNumber": number,
            "carrierCode": "",
            "trackingNumberUniqueId": "",
        },
        "error": {
            "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
            "message": "Tracking number cannot be found. Please check it and try again.",
        },
    }


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return errors(
            429,
            "TOO.MANY.REQUESTS.ERROR",
            "We have received too many requests in a short time. Please wait and try again.",
        )
    return errors(
        500,
        "INTERNAL.SERVER.ERROR",
        "We encountered an unexpected error. Please try again later.",
    )


def token(call: Call) -> Reply:
    try:
        form = call.request.form()
    except BadBody:
        return errors(400, "BAD.REQUEST.ERROR", "The request body could not be read.")
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    basic = call.request.basic()
    if basic and not (client_id and client_secret):
        client_id, client_secret = basic
    if form.get("grant_type") not in ("client_credentials", "csp_credentials"):
        return errors(400, "BAD.REQUEST.ERROR", "Missing or unsupported grant_type.")
    if not client_id or not client_secret:
        return errors(
            401,
            "NOT.AUTHORIZED.ERROR",
            "The given client credentials were not valid. Please modify your request.",
        )
    value, _ = call.app.state.issue_token(CARRIER, client_id, TOKEN_LIFETIME)
    return json_reply(
        {
            "access_token": value,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": "CXS-TP",
        }
    )


def track(call: Call) -> Reply:
    if not call.app.state.token_valid(CARRIER, call.request.bearer()):
        return errors(
            401,
            "NOT.AUTHORIZED.ERROR",
            "Access token expired or invalid. Please modify your request and try again.",
        )
    try:
        body = call.request.json()
    except BadBody:
        return errors(400, "INVALID.INPUT.EXCEPTION", "Invalid field value in the input")
    infos = body.get("trackingInfo") if isinstance(body, dict) else None
    if not isinstance(infos, list) or not infos:
        return errors(400, "TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.")
    if len(infos) > MAX_NUMBERS:
        return errors(
            400,
            "INVALID.INPUT.EXCEPTION",
            f"trackingInfo takes at most {MAX_NUMBERS} tracking numbers per request.",
        )
    numbers: list[str] = []
    for info in infos:
        number_info = info.get("trackingNumberInfo") if isinstance(info, dict) else None
        number = number_info.get("trackingNumber") if isinstance(number_info, dict) else None
        if not isinstance(number, (str, int)) or not str(number).strip():
            return errors(400, "TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.")
        numbers.append(str(number).strip())
    detailed = bool(body.get("includeDetailedScans", True))
    outcome = call.guard(numbers, fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    complete = []
    for number in numbers:
        snap = call.lookup(number, outcome)
        if snap is None or not snap.events:
            result = not_found(number)
        else:
            result = render_result(number, snap, detailed)
        complete.append({"trackingNumber": number, "trackResults": [result]})
    payload: dict[str, Any] = {
        "transactionId": str(uuid.uuid4()),
        "output": {"completeTrackResults": complete},
    }
    customer_id = call.request.header("x-customer-transaction-id")
    if customer_id:
        payload["customerTransactionId"] = customer_id
    return json_reply(payload)


ROUTES: list[Route] = [
    route("POST", "/oauth/token", token, CARRIER, "fedex.token", token=True),
    route("POST", "/track/v1/trackingnumbers", track, CARRIER, "fedex.track"),
]
