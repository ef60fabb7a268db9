"""UPS: OAuth client credentials, then `GET /api/track/v1/details/{inquiryNumber}` (one number).

Token: `POST /security/v1/oauth/token` with HTTP Basic client_id:client_secret and
`grant_type=client_credentials`; every field of the answer is a string. An unknown number is a
200 whose shipment carries warning TW0001 and no package. Errors are
`{"response": {"errors": [{"code", "message"}]}}`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from ..geo import Place
from ..history import Event, Snapshot
from ..state import Fault
from .base import BadBody, Call, Reply, Route, json_reply, offset, route

CARRIER = "ups"
TOKEN_LIFETIME = 14399
_INQUIRY = re.compile(r"^[A-Za-z0-9]{7,34}$")

# kind → (type, code, statusCode, description, simplifiedTextDescription)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "pending": ("NA", "NA", "", "Status not available", "Status Not Available"),
    "label": (
        "M",
        "MP",
        "003",
        "Label created by the shipper; UPS has not received the package yet.",
        "Label Created",
    ),
    "pickup": ("I", "PU", "038", "Pickup Scan", "Picked Up"),
    "arrival": ("I", "AR", "005", "Arrived at Facility", "On the Way"),
    "processed": ("I", "IP", "005", "Processing at UPS Facility", "On the Way"),
    "departure": ("I", "DP", "005", "Departed from Facility", "On the Way"),
    "customs": ("I", "CR", "005", "Import customs clearance complete", "On the Way"),
    "in_transit": ("I", "IT", "005", "In Transit", "On the Way"),
    "out_for_delivery": ("I", "OT", "021", "Out For Delivery Today", "Out for Delivery"),
    "attempt": (
        "X",
        "48",
        "022",
        "The receiver was not available. Another attempt will be made next business day.",
        "Delivery Attempted",
    ),
    "pickup_ready": (
        "I",
        "ZP",
        "017",
        "Held at the UPS facility for customer pickup",
        "Ready for Pickup",
    ),
    "delivered": ("D", "FS", "011", "Delivered", "Delivered"),
    "collected": (
        "D",
        "KB",
        "011",
        "Delivered: picked up by the receiver at the UPS Access Point",
        "Delivered",
    ),
    "exception": ("X", "DJ", "013", "Exception: delivery will be delayed", "Delay"),
    "returning": ("X", "RS", "034", "The package is being returned to the sender", "Returned"),
    "expired": (
        "NA",
        "NA",
        "",
        "No further tracking updates are available",
        "Status Not Available",
    ),
}
REASONS: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("arrival", "delivery_unit"): (
        "I",
        "AR",
        "005",
        "Arrived at Facility",
        "On the Way",
    ),
    ("pickup_ready", "pickup_point"): (
        "I",
        "2Q",
        "161",
        "Delivered to UPS Access Point, awaiting customer pickup",
        "Ready for Pickup",
    ),
    ("exception", "address"): (
        "X",
        "UA",
        "013",
        "The address is incorrect; the package cannot be delivered as addressed.",
        "Exception",
    ),
    ("exception", "damaged"): (
        "X",
        "DM",
        "013",
        "The package was damaged in transit; the shipper has been notified.",
        "Exception",
    ),
    ("exception", "weather"): (
        "X",
        "WD",
        "013",
        "A weather emergency is causing a delay; we are adjusting delivery plans.",
        "Delay",
    ),
    ("exception", "customs"): (
        "X",
        "CH",
        "012",
        "Held by the import customs agency; clearance in progress.",
        "Clearance in Progress",
    ),
}
DELIVERED_AT = {
    "front_door": "Front Door",
    "mailbox": "Mailbox",
    "signed": "Residential",
    "reception": "Reception",
}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(
        {"response": {"errors": [{"code": code, "message": message}]}}, status, headers=headers
    )


def _status(event: Event) -> dict[str, str]:
    kind_type, code, status_code, description, simple = REASONS.get(
        (event.kind, event.reason), KINDS[event.kind]
    )
    return {
        "type": kind_type,
        "code": code,
        "statusCode": status_code,
        "description": event.description or description,
        "simplifiedTextDescription": simple,
    }


def _address(place: Place) -> dict[str, str]:
    return {
        "city": place.city,
        "stateProvince": place.region,
        "postalCode": place.postal,
        "country": place.country,
        "countryCode": place.country,
    }


def render_activity(event: Event) -> dict[str, Any]:
    local, utc = event.occurred_at, event.utc
    return {
        "location": {"address": _address(event.place), "slic": ""},
        "status": _status(event),
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
        "gmtDate": utc.strftime("%Y%m%d"),
        "gmtOffset": offset(local),
        "gmtTime": utc.strftime("%H%M%S"),
    }


def render_package(number: str, snap: Snapshot) -> dict[str, Any]:
    latest = snap.latest
    assert latest is not None
    current = _status(latest)
    package: dict[str, Any] = {
        "trackingNumber": number,
        "statusCode": current["statusCode"],
        "statusDescription": current["description"],
        "currentStatus": current,
        "activity": [render_activity(e) for e in snap.events],
        "packageAddress": [
            {"type": "ORIGIN", "name": "", "address": _address(snap.origin)},
            {"type": "DESTINATION", "name": "", "address": _address(snap.destination)},
        ],
        "service": (
            {"code": "065", "levelCode": "065", "description": "UPS Worldwide Saver"}
            if snap.plan.international
            else {"code": "003", "levelCode": "003", "description": "UPS Ground"}
        ),
        "weight": {"unitOfMeasurement": "LBS", "weight": f"{snap.plan.weight_kg * 2.20462:.2f}"},
        "packageCount": 1,
        "deliveryDate": [],
    }
    delivered = snap.first("delivered", "collected")
    if delivered is not None:
        package["deliveryDate"] = [
            {"type": "DEL", "date": delivered.occurred_at.strftime("%Y%m%d")}
        ]
        package["deliveryTime"] = {
            "type": "DEL",
            "endTime": delivered.occurred_at.strftime("%H%M%S"),
        }
        package["deliveryInformation"] = {
            "location": DELIVERED_AT.get(delivered.reason, "Access Point"),
            "receivedBy": "RECIPIENT" if delivered.reason == "signed" else "",
        }
    elif snap.eta is not None:
        package["deliveryDate"] = [{"type": "SDD", "date": snap.eta.strftime("%Y%m%d")}]
        package["deliveryTime"] = {"type": "EOD", "endTime": snap.eta.strftime("%H%M%S")}
    if snap.latest and snap.latest.kind == "pickup_ready":
        pickup_by = snap.latest.occurred_at + dt.timedelta(days=7)
        package["accessPointInformation"] = {"pickupByDate": pickup_by.strftime("%Y%m%d")}
    return package


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return error(429, "10429", "Too Many Requests")
    return error(500, "10500", "Internal server error")


def token(call: Call) -> Reply:
    credentials = call.request.basic()
    if credentials is None or not credentials[0] or not credentials[1]:
        return error(401, "10401", "ClientId is Invalid")
    try:
        form = call.request.form()
    except BadBody:
        return error(400, "10400", "Invalid request body")
    if form.get("grant_type") != "client_credentials":
        return error(400, "10400", "Invalid/Missing grant_type")
    value, issued = call.app.state.issue_token(CARRIER, credentials[0], TOKEN_LIFETIME)
    return json_reply(
        {
            "token_type": "Bearer",
            "issued_at": str(int(issued.issued_at * 1000)),
            "client_id": credentials[0],
            "access_token": value,
            "scope": "",
            "expires_in": str(TOKEN_LIFETIME),
            "refresh_count": "0",
            "status": "approved",
        }
    )


def track(call: Call) -> Reply:
    if not call.app.state.token_valid(CARRIER, call.request.bearer()):
        return error(401, "250002", "Invalid Authentication Information.")
    number = call.params["number"].strip()
    if not _INQUIRY.match(number):
        return error(400, "TV1002", "Invalid inquiry number")
    outcome = call.guard([number], fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    snap = call.lookup(number, outcome)
    shipment: dict[str, Any] = {"inquiryNumber": number, "userRelation": []}
    if snap is None or not snap.events:
        shipment["warnings"] = [{"code": "TW0001", "message": "Tracking Information Not Found"}]
    else:
        shipment["package"] = [render_package(number, snap)]
    return json_reply(
        {"trackResponse": {"shipment": [shipment]}},
        headers={"transId": call.request.header("transId") or str(int(time.time() * 1000))},
    )


ROUTES: list[Route] = [
    route("POST", "/security/v1/oauth/token", token, CARRIER, "ups.token", token=True),
    route("GET", "/api/track/v1/details/{number}", track, CARRIER, "ups.track"),
    route("GET", "/track/v1/details/{number}", track, CARRIER, "ups.track"),
]
