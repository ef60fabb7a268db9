"""The sandbox's own format: `GET /sandbox/v1/track?numbers=A,B` with normalised statuses."""

from __future__ import annotations

from typing import Any

from ..history import Event, Snapshot
from ..state import Fault
from .base import Call, Reply, Route, iso, json_reply, numbers_arg, route

CARRIER = "sandbox"
MAX_NUMBERS = 50

# kind → (code, sub-status, text)
KINDS: dict[str, tuple[str, str, str]] = {
    "pending": ("PN", "pending", "Awaiting information from the shipper"),
    "label": ("LC", "label_created", "Shipping label created"),
    "pickup": ("PU", "picked_up", "Picked up from the shipper"),
    "arrival": ("AR", "arrived_at_facility", "Arrived at sorting facility"),
    "processed": ("PR", "processed_at_facility", "Processed at sorting facility"),
    "departure": ("DP", "departed_facility", "Departed sorting facility"),
    "customs": ("CC", "customs_cleared", "Cleared customs"),
    "in_transit": ("IT", "in_transit", "In transit"),
    "out_for_delivery": ("OD", "out_for_delivery", "Out for delivery"),
    "attempt": ("DA", "delivery_attempted", "Delivery attempted, recipient not available"),
    "pickup_ready": ("PP", "ready_for_pickup", "Ready for pickup"),
    "delivered": ("DL", "delivered", "Delivered"),
    "collected": ("PK", "picked_up_by_recipient", "Picked up by the recipient"),
    "exception": ("EX", "exception", "Delivery exception"),
    "returning": ("RS", "returning_to_sender", "Returning to sender"),
    "expired": ("XP", "expired", "Tracking expired"),
}
REASON_TEXT = {
    ("arrival", "delivery_unit"): "Arrived at delivery station",
    ("exception", "address"): "Delivery exception: address could not be found",
    ("exception", "damaged"): "Delivery exception: parcel damaged in transit",
    ("exception", "weather"): "Delivery exception: delayed by severe weather",
    ("exception", "customs"): "Delivery exception: held by customs",
    ("pickup_ready", "pickup_point"): "Delivered to a pickup point, ready for pickup",
    ("delivered", "front_door"): "Delivered, left at the front door",
    ("delivered", "mailbox"): "Delivered to the mailbox",
    ("delivered", "signed"): "Delivered, signed for by the recipient",
    ("delivered", "reception"): "Delivered to the reception",
}
SUB_STATUS = {
    ("exception", "address"): "exception_address",
    ("exception", "damaged"): "exception_damaged",
    ("exception", "weather"): "exception_delayed",
    ("exception", "customs"): "exception_customs",
}


def describe(event: Event) -> str:
    return event.description or REASON_TEXT.get((event.kind, event.reason)) or KINDS[event.kind][2]


def render_event(event: Event) -> dict[str, Any]:
    return {
        "occurred_at": iso(event.occurred_at),
        "status": event.status,
        "description": describe(event),
        "location": event.place.label,
        "code": KINDS[event.kind][0],
    }


def render(number: str, snap: Snapshot) -> dict[str, Any]:
    latest = snap.latest
    if latest is None:
        code, sub_status, text = KINDS["pending"]
    else:
        code = KINDS[latest.kind][0]
        sub_status = SUB_STATUS.get((latest.kind, latest.reason), KINDS[latest.kind][1])
        text = describe(latest)
    return {
        "tracking_number": number,
        "status": snap.status,
        "sub_status": sub_status,
        "status_code": code,
        "status_text": text,
        "estimated_delivery": iso(snap.eta) if snap.eta else None,
        "origin": snap.origin.label,
        "destination": snap.destination.label,
        "events": [render_event(e) for e in snap.events],
    }


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return json_reply(
            {"error": {"code": "rate_limited", "message": "Too many requests, slow down."}}, 429
        )
    return json_reply(
        {"error": {"code": "internal_error", "message": "The sandbox failed (injected fault)."}},
        500,
    )


def track(call: Call) -> Reply:
    numbers = numbers_arg(call.request.arg("numbers"))
    if not numbers:
        return json_reply(
            {"error": {"code": "bad_request", "message": "Give ?numbers=A,B (1 to 50)."}}, 400
        )
    if len(numbers) > MAX_NUMBERS:
        message = f"At most {MAX_NUMBERS} numbers per request ({len(numbers)} given)."
        return json_reply({"error": {"code": "too_many_numbers", "message": message}}, 400)
    outcome = call.guard(numbers, fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    results, not_found = [], []
    for number in numbers:
        snap = call.lookup(number, outcome)
        if snap is None:
            not_found.append(number)
        else:
            results.append(render(number, snap))
    return json_reply({"results": results, "not_found": not_found})


ROUTES: list[Route] = [route("GET", "/sandbox/v1/track", track, CARRIER, "sandbox.track")]
