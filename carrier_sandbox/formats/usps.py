"""USPS Tracking v3: `POST /oauth2/v3/token`, then `GET /tracking/v3/tracking/{number}`.

`?expand=DETAIL` adds `trackingEvents` (newest first); the default SUMMARY leaves them out.
Event times are local without an offset (`eventTimestamp`) plus `GMTTimestamp` and `GMTOffset`.
Booleans come as strings, as in real responses. Errors (404 for an unknown number, 401, 429,
500) use the `ErrorMessage` envelope.
"""

from __future__ import annotations

from typing import Any

from ..history import Event, Snapshot
from ..state import Fault
from .base import BadBody, Call, Reply, Route, iso, iso_z, json_reply, local_naive, offset, route

CARRIER = "usps"
TOKEN_LIFETIME = 28799
API_VERSION = "/tracking/v3"

# kind → (eventType, eventCode, statusCategory)
KINDS: dict[str, tuple[str, str, str]] = {
    "pending": ("Pre-Shipment Info Sent to USPS, USPS Awaiting Item", "MA", "Pre-Shipment"),
    "label": ("Shipping Label Created, USPS Awaiting Item", "GX", "Pre-Shipment"),
    "pickup": ("USPS in possession of item", "03", "Accepted"),
    "arrival": ("Arrived at USPS Regional Facility", "A1", "In Transit"),
    "processed": ("Processed through USPS Facility", "10", "In Transit"),
    "departure": ("Departed USPS Regional Facility", "T1", "In Transit"),
    "customs": ("Customs Clearance Processing Complete", "PC", "In Transit"),
    "in_transit": ("In Transit to Next Facility", "TL", "In Transit"),
    "out_for_delivery": ("Out for Delivery", "OF", "Out for Delivery"),
    "attempt": ("Notice Left (No Authorized Recipient Available)", "02", "Delivery Attempt"),
    "pickup_ready": ("Available for Pickup", "16", "Available for Pickup"),
    "delivered": ("Delivered", "01", "Delivered"),
    "collected": ("Delivered, Individual Picked Up at Post Office", "01", "Delivered"),
    "exception": ("Alert", "05", "Alert"),
    "returning": ("Return to Sender", "09", "Return to Sender"),
    "expired": ("Tracking Information No Longer Updated", "", "Alert"),
}
REASONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("arrival", "delivery_unit"): ("Arrived at Post Office", "07", "In Transit"),
    ("pickup_ready", "pickup_point"): ("Available for Pickup", "14", "Available for Pickup"),
    ("delivered", "front_door"): ("Delivered, Front Door/Porch", "01", "Delivered"),
    ("delivered", "mailbox"): ("Delivered, In/At Mailbox", "01", "Delivered"),
    ("delivered", "signed"): ("Delivered, Left with Individual", "01", "Delivered"),
    ("delivered", "reception"): ("Delivered, Front Desk/Reception/Mail Room", "01", "Delivered"),
    ("exception", "address"): ("Undeliverable as Addressed", "05", "Alert"),
    ("exception", "damaged"): ("Alert: Item Damaged", "05", "Alert"),
    ("exception", "weather"): ("Alert: Delayed by Severe Weather", "05", "Alert"),
    ("exception", "customs"): ("Alert: Held in Customs", "05", "Alert"),
}
SUMMARY_PHRASE = {
    "Pre-Shipment": "label was created; USPS is awaiting the item",
    "Accepted": "was accepted",
    "In Transit": "is in transit",
    "Out for Delivery": "is out for delivery",
    "Delivery Attempt": "could not be delivered; a notice was left",
    "Available for Pickup": "is available for pickup",
    "Delivered": "was delivered",
    "Alert": "has an alert",
    "Return to Sender": "is being returned to the sender",
}


def error_message(
    status: int, message: str, detail: str, headers: dict[str, str] | None = None
) -> Reply:
    body = {
        "apiVersion": API_VERSION,
        "error": {
            "code": str(status),
            "message": message,
            "errors": [
                {"status": str(status), "code": str(status), "title": message, "detail": detail}
            ],
        },
    }
    return json_reply(body, status, headers=headers)


def _codes(event: Event) -> tuple[str, str, str]:
    return REASONS.get((event.kind, event.reason), KINDS[event.kind])


def render_event(event: Event) -> dict[str, Any]:
    event_type, code, _ = _codes(event)
    place = event.place
    return {
        "eventType": event.description or event_type,
        "eventTimestamp": local_naive(event.occurred_at),
        "GMTTimestamp": iso_z(event.occurred_at),
        "GMTOffset": offset(event.occurred_at),
        "eventCountry": None if place.country in ("US", "") else place.country_name.upper(),
        "eventCity": place.city.upper(),
        "eventState": place.region or None,
        "eventZIP": place.postal or None,
        "firm": None,
        "name": None,
        "authorizedAgent": "false",
        "eventCode": code,
        "actionCode": None,
        "reasonCode": None,
    }


def render(number: str, snap: Snapshot, detail: bool) -> dict[str, Any]:
    latest = snap.latest
    assert latest is not None
    event_type, _, category = _codes(latest)
    where = " ".join(
        part
        for part in (
            f"{latest.place.city.upper()},",
            latest.place.region,
            latest.place.postal if latest.place.country == "US" else latest.place.country_name,
        )
        if part
    )
    when = (
        latest.occurred_at.strftime("%-I:%M %p on %B %-d, %Y")
        .replace("AM", "am")
        .replace("PM", "pm")
    )
    body: dict[str, Any] = {
        "trackingNumber": number,
        "additionalInfo": None,
        "ADPScripting": None,
        "archiveRestoreInfo": None,
        "associatedLabel": "",
        "carrierRelease": "false",
        "mailClass": (
            "Priority Mail International<SUP>&#174;</SUP>"
            if snap.plan.international
            else "USPS Ground Advantage<SUP>&#153;</SUP>"
        ),
        "mailType": "DM",
        "destinationCity": snap.destination.city.upper(),
        "destinationState": snap.destination.region,
        "destinationZIP": snap.destination.postal,
        "destinationCountryCode": ""
        if snap.destination.country == "US"
        else snap.destination.country,
        "originCity": snap.origin.city.upper(),
        "originState": snap.origin.region,
        "originZIP": snap.origin.postal,
        "originCountry": "" if snap.origin.country == "US" else snap.origin.country,
        "emailEnabled": "true",
        "endOfDay": "",
        "eSOFEligible": "false",
        "expectedDeliveryTimeStamp": iso(snap.eta) if snap.eta else None,
        "expectedDeliveryType": "EDD" if snap.eta else None,
        "guaranteedDeliveryTimeStamp": None,
        "kahalaIndicator": "false",
        "mailPieceIntakeDate": _intake(snap),
        "uniqueMailPieceID": number[-12:],
        "onTime": "false",
        "proofOfDeliveryEnabled": "false",
        "redeliveryEnabled": "true" if latest.kind == "attempt" else "false",
        "restoreEnabled": "false",
        "returnDateNotice": None,
        "RRAMEnabled": "false",
        "RREEnabled": "false",
        "services": [],
        "serviceTypeCode": "001",
        "status": latest.description or event_type,
        "statusCategory": category,
        "statusSummary": f"Your item {SUMMARY_PHRASE[category]} at {when} in {where}.",
        "tableCode": "T",
        "trackingProofOfDeliveryEnabled": "false",
        "valueofArticle": "",
    }
    if detail:
        body["trackingEvents"] = [render_event(e) for e in snap.events]
    return body


def _intake(snap: Snapshot) -> str | None:
    pickup = snap.first("pickup")
    return pickup.occurred_at.strftime("%Y-%m-%d %H:%M:%S.000000") if pickup else None


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return error_message(
            429,
            "Too Many Requests.",
            "The number of requests has exceeded the quota for the time period.",
        )
    return error_message(500, "Internal Server Error.", "The tracking service failed to answer.")


def token(call: Call) -> Reply:
    try:
        form = call.request.form()
    except BadBody:
        return json_reply(
            {"error": "invalid_request", "error_description": "Unreadable body."}, 400
        )
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    basic = call.request.basic()
    if basic and not (client_id and client_secret):
        client_id, client_secret = basic
    if form.get("grant_type") != "client_credentials":
        return json_reply(
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials.",
            },
            400,
        )
    if not client_id or not client_secret:
        return json_reply(
            {"error": "invalid_client", "error_description": "Client authentication failed."}, 401
        )
    value, issued = call.app.state.issue_token(CARRIER, client_id, TOKEN_LIFETIME)
    scope = form.get("scope") or "tracking"
    return json_reply(
        {
            "access_token": value,
            "token_type": "Bearer",
            "issued_at": int(issued.issued_at * 1000),
            "expires_in": TOKEN_LIFETIME,
            "status": "approved",
            "scope": scope,
            "issuer": "api.usps.com",
            "client_id": client_id,
            "application_name": "Resync sandbox client",
            "api_products": "[Public Access]",
            "public_key": "",
        }
    )


def track(call: Call) -> Reply:
    if not call.app.state.token_valid(CARRIER, call.request.bearer()):
        return error_message(
            401,
            "Unauthorized.",
            "The access token is missing, invalid or expired.",
            headers={"WWW-Authenticate": 'Bearer realm="https://api.usps.com"'},
        )
    number = call.params["number"].strip()
    expand = (call.request.arg("expand") or "SUMMARY").upper()
    if expand not in ("SUMMARY", "DETAIL"):
        return error_message(400, "Bad Request.", "expand must be SUMMARY or DETAIL.")
    outcome = call.guard([number], fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    snap = call.lookup(number, outcome)
    if snap is None or not snap.events:
        return error_message(
            404,
            "Not Found.",
            f"No tracking information is available for {number} at this time.",
        )
    return json_reply(render(number, snap, expand == "DETAIL"))


ROUTES: list[Route] = [
    route("POST", "/oauth2/v3/token", token, CARRIER, "usps.token", token=True),
    route("GET", "/tracking/v3/tracking/{number}", track, CARRIER, "usps.track"),
]
