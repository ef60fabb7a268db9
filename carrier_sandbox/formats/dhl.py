"""DHL Shipment Tracking – Unified: `GET /track/shipments?trackingNumber=…` (one number).

Auth: `DHL-API-Key` header (or query parameter). Errors are RFC 7807 problem JSON; an unknown
number is a 404 problem. Event `statusCode` is one of pre-transit, transit, delivered, failure,
unknown; DHL has no code for out-for-delivery or ready-for-pickup, so the text says it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..geo import Place
from ..history import Event, Snapshot
from ..state import Fault
from .base import Call, Reply, Route, iso, json_reply, route

CARRIER = "dhl"
PROBLEM = "application/problem+json"

# kind → (statusCode, status, description)
KINDS: dict[str, tuple[str, str, str]] = {
    "pending": ("unknown", "No information yet", "No tracking information is available yet."),
    "label": (
        "pre-transit",
        "Shipment information received",
        "The sender has transmitted the shipment data to DHL electronically.",
    ),
    "pickup": ("transit", "Picked up", "The shipment has been picked up from the sender."),
    "arrival": ("transit", "Arrived at facility", "The shipment has arrived at the parcel center."),
    "processed": ("transit", "Processed", "The shipment has been processed in the parcel center."),
    "departure": ("transit", "Departed facility", "The shipment has left the parcel center."),
    "customs": (
        "transit",
        "Customs clearance completed",
        "Import customs clearance has been completed.",
    ),
    "in_transit": ("transit", "In transit", "The shipment is on its way."),
    "out_for_delivery": (
        "transit",
        "Out for delivery",
        "The shipment has been loaded onto the delivery vehicle and is out for delivery.",
    ),
    "attempt": (
        "failure",
        "Delivery attempt unsuccessful",
        "Delivery attempt failed: the recipient was not at home. A notification card was left.",
    ),
    "pickup_ready": (
        "transit",
        "Ready for pick-up",
        "The shipment is ready for pick-up at the retail outlet.",
    ),
    "delivered": ("delivered", "Delivered", "The shipment has been delivered."),
    "collected": (
        "delivered",
        "Delivered",
        "The recipient has picked up the shipment from the retail outlet.",
    ),
    "exception": ("failure", "Delivery problem", "There is a problem with the shipment."),
    "returning": (
        "failure",
        "Returned to sender",
        "The shipment is being returned to the sender.",
    ),
    "expired": ("unknown", "No further updates", "No further tracking information is expected."),
}
REASONS: dict[tuple[str, str], tuple[str, str]] = {
    ("arrival", "delivery_unit"): (
        "Arrived at delivery base",
        "The shipment has arrived at the delivery base.",
    ),
    ("exception", "address"): (
        "Address problem",
        "The shipment could not be delivered: the address could not be found.",
    ),
    ("exception", "damaged"): ("Shipment damaged", "The shipment was damaged in transit."),
    ("exception", "weather"): (
        "Delayed",
        "The shipment is delayed because of severe weather conditions.",
    ),
    ("exception", "customs"): ("Held by customs", "The shipment is being held by customs."),
    ("pickup_ready", "pickup_point"): (
        "Ready for pick-up",
        "The shipment is at a Packstation or retail outlet, ready for pick-up.",
    ),
    ("delivered", "front_door"): ("Delivered", "The shipment has been left at the front door."),
    ("delivered", "mailbox"): ("Delivered", "The shipment has been delivered to the mailbox."),
    ("delivered", "signed"): ("Delivered", "The shipment has been delivered to the recipient."),
    ("delivered", "reception"): ("Delivered", "The shipment has been delivered to the reception."),
}


def problem(status: int, title: str, detail: str, instance: str = "") -> Reply:
    body: dict[str, Any] = {"title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    return json_reply(body, status, content_type=PROBLEM)


def _address(place: Place) -> dict[str, Any]:
    return {
        "address": {
            "countryCode": place.country,
            "postalCode": place.postal,
            "addressLocality": place.city,
        }
    }


def render_event(event: Event) -> dict[str, Any]:
    code, status, description = KINDS[event.kind]
    status, description = REASONS.get((event.kind, event.reason), (status, description))
    return {
        "timestamp": iso(event.occurred_at),
        "location": _address(event.place),
        "statusCode": code,
        "status": status,
        "description": event.description or description,
    }


def render(number: str, snap: Snapshot) -> dict[str, Any]:
    domestic_de = snap.origin.country == snap.destination.country == "DE"
    shipment: dict[str, Any] = {
        "id": number,
        "service": "parcel-de" if domestic_de else "express",
        "origin": _address(snap.origin),
        "destination": _address(snap.destination),
        "status": render_event(snap.latest)
        if snap.latest
        else {
            "statusCode": "unknown",
            "status": KINDS["pending"][1],
            "description": KINDS["pending"][2],
        },
        "details": {
            "product": {"productName": "DHL PAKET" if domestic_de else "DHL Express Worldwide"},
            "totalNumberOfPieces": 1,
            "pieceIds": [number],
            "weight": {"value": snap.plan.weight_kg, "unitText": "kg"},
        },
        "events": [render_event(e) for e in snap.events],
    }
    if snap.eta is not None:
        shipment["estimatedTimeOfDelivery"] = iso(snap.eta)
        shipment["estimatedDeliveryTimeFrame"] = {
            "estimatedFrom": iso(snap.eta.replace(hour=8)),
            "estimatedThrough": iso(snap.eta),
        }
    delivered = snap.first("delivered", "collected")
    if delivered is not None:
        shipment["details"]["proofOfDelivery"] = {
            "timestamp": iso(delivered.occurred_at),
            "signed": {"name": "Recipient"} if delivered.reason == "signed" else None,
        }
    return shipment


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return problem(
            429,
            "Too Many Requests",
            "Too many requests in the current time period; try again later.",
        )
    return problem(500, "Internal Server Error", "The tracking backend failed to answer.")


def track(call: Call) -> Reply:
    request = call.request
    if not (request.header("DHL-API-Key") or request.arg("DHL-API-Key")):
        return problem(401, "Unauthorized", "A valid DHL-API-Key is required for this resource.")
    number = (request.arg("trackingNumber") or "").strip()
    if not number:
        return problem(400, "Bad Request", "The trackingNumber query parameter is required.")
    outcome = call.guard([number], fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    instance = "/shipments?" + urlencode({"trackingNumber": number})
    snap = call.lookup(number, outcome)
    if snap is None or not snap.events:
        return problem(
            404, "No result found", "No shipment with this tracking number was found.", instance
        )
    return json_reply({"url": f"{instance}&offset=0&limit=5", "shipments": [render(number, snap)]})


ROUTES: list[Route] = [route("GET", "/track/shipments", track, CARRIER, "dhl.track")]
