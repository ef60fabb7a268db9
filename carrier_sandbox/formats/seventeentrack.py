"""17TRACK API v2.2: `POST /track/v2.2/register` and `/gettrackinfo` (JSON arrays, ≤40 items).

Header `17token`. Envelope `{"code": 0, "data": {"accepted": [...], "rejected": [...]}}`;
request-level errors put a non-zero `code` and `data.errors`. A number must be registered before
`gettrackinfo` returns it (else it is rejected with -18019902); a number no carrier knows is
rejected at registration with -18019903 (carrier cannot be detected).
"""

from __future__ import annotations

import zlib
from typing import Any

from ..geo import Place
from ..history import Event, Snapshot, home_carrier
from ..state import Fault
from .base import BadBody, Call, Reply, Route, iso, iso_z, json_reply, offset, route

CARRIER = "17track"
MAX_NUMBERS = 40

NOT_REGISTERED = -18019902
ALREADY_REGISTERED = -18019901
CARRIER_NOT_DETECTED = -18019903
TOO_MANY = -18010014
INVALID_KEY = -18010002
INTERNAL = -18010003
BAD_DATA = -18010013
FIELD_REQUIRED = -18010010

# kind → (main status, sub_status, stage)
KINDS: dict[str, tuple[str, str, str | None]] = {
    "pending": ("NotFound", "NotFound_Other", None),
    "label": ("InfoReceived", "InfoReceived", "InfoReceived"),
    "pickup": ("InTransit", "InTransit_PickedUp", "PickedUp"),
    "arrival": ("InTransit", "InTransit_Arrival", "Arrival"),
    "processed": ("InTransit", "InTransit_Other", None),
    "departure": ("InTransit", "InTransit_Departure", "Departure"),
    "customs": ("InTransit", "InTransit_CustomsReleased", None),
    "in_transit": ("InTransit", "InTransit_Other", None),
    "out_for_delivery": ("OutForDelivery", "OutForDelivery_Other", "OutForDelivery"),
    "attempt": ("DeliveryFailure", "DeliveryFailure_NoBody", None),
    "pickup_ready": ("AvailableForPickup", "AvailableForPickup_Other", "AvailableForPickup"),
    "delivered": ("Delivered", "Delivered_Other", "Delivered"),
    "collected": ("Delivered", "Delivered_Other", "Delivered"),
    "exception": ("Exception", "Exception_Other", None),
    "returning": ("Exception", "Exception_Returning", "Returning"),
    "expired": ("Expired", "Expired_Other", None),
}
SUB_STATUS = {
    ("exception", "damaged"): "Exception_Damage",
    ("exception", "weather"): "Exception_Delayed",
}
DESCRIPTIONS = {
    "pending": "No tracking information yet",
    "label": "Shipment information received, awaiting the item",
    "pickup": "Picked up by the carrier",
    "arrival": "Arrived at sorting center",
    "processed": "Processed at sorting center",
    "departure": "Departed sorting center",
    "customs": "Customs clearance completed",
    "in_transit": "In transit",
    "out_for_delivery": "Out for delivery",
    "attempt": "Delivery attempted, recipient not at home",
    "pickup_ready": "Arrived at pickup point, awaiting collection",
    "delivered": "Delivered",
    "collected": "Collected by the recipient at the pickup point",
    "exception": "Delivery exception",
    "returning": "Returning to sender",
    "expired": "Tracking stopped updating",
}
REASON_DESCRIPTIONS = {
    ("arrival", "delivery_unit"): "Arrived at delivery office",
    ("exception", "address"): "Delivery exception: incorrect or incomplete address",
    ("exception", "damaged"): "Item damaged in transit",
    ("exception", "weather"): "Delayed due to severe weather",
    ("exception", "customs"): "Held by customs, awaiting clearance",
}
CARRIER_KEYS = {"ups": 100002, "fedex": 100003, "usps": 21051}
# UPU S10 numbers: the post of the country in the number's last two letters (as AfterShip's).
S10_KEYS = {"CN": 3011, "SG": 190096, "GB": 11031, "US": 21051}
MILESTONES = (
    "InfoReceived",
    "PickedUp",
    "Departure",
    "Arrival",
    "AvailableForPickup",
    "OutForDelivery",
    "Delivered",
    "Returning",
    "Returned",
)


def carrier_key(number: str) -> int:
    home = home_carrier(number)
    if home == "dhl":
        return 7041 if number.startswith("00340434") else 100001
    if home == "s10":
        return S10_KEYS.get(number[-2:].upper(), 3011)
    return CARRIER_KEYS.get(home, 3011)


def envelope_error(code: int, message: str, status: int = 200) -> Reply:
    return json_reply(
        {"code": code, "data": {"errors": [{"code": code, "message": message}]}}, status
    )


def _rejected(number: str, code: int, message: str) -> dict[str, Any]:
    return {"number": number, "error": {"code": code, "message": message}}


def _address(place: Place) -> dict[str, Any]:
    return {
        "country": place.country,
        "state": place.region or None,
        "city": place.city,
        "street": None,
        "postal_code": place.postal or None,
        "coordinates": {"longitude": None, "latitude": None},
    }


def _time_fields(event: Event) -> dict[str, Any]:
    local = event.occurred_at
    return {
        "time_iso": iso(local),
        "time_utc": iso_z(local),
        "time_raw": {
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M:%S"),
            "timezone": offset(local),
        },
    }


def _sub_status(event: Event) -> str:
    return SUB_STATUS.get((event.kind, event.reason), KINDS[event.kind][1])


def render_event(event: Event) -> dict[str, Any]:
    description = (
        event.description
        or REASON_DESCRIPTIONS.get((event.kind, event.reason))
        or DESCRIPTIONS[event.kind]
    )
    return {
        **_time_fields(event),
        "description": description,
        "description_translation": None,
        "location": event.place.label,
        "stage": KINDS[event.kind][2],
        "sub_status": _sub_status(event),
        "address": _address(event.place),
    }


def render_item(number: str, key: int, snap: Snapshot, tag: Any) -> dict[str, Any]:
    events = [render_event(e) for e in snap.events]
    latest = snap.latest
    if latest is None:
        latest_status = {
            "status": "NotFound",
            "sub_status": "NotFound_Other",
            "sub_status_descr": None,
        }
    else:
        latest_status = {
            "status": KINDS[latest.kind][0],
            "sub_status": _sub_status(latest),
            "sub_status_descr": None,
        }
    milestone = []
    for stage in MILESTONES:
        hit = next((e for e in reversed(snap.events) if KINDS[e.kind][2] == stage), None)
        times = _time_fields(hit) if hit else {"time_iso": None, "time_utc": None, "time_raw": None}
        milestone.append({"key_stage": stage, **times})
    first = snap.events[-1] if snap.events else None
    pickup = snap.first("pickup")
    delivered = snap.first("delivered", "collected")
    now = snap.now
    eta = snap.eta
    return {
        "number": number,
        "carrier": key,
        "param": None,
        "tag": tag,
        "track_info": {
            "shipping_info": {
                "shipper_address": _address(snap.origin),
                "recipient_address": _address(snap.destination),
            },
            "latest_status": latest_status,
            "latest_event": events[0] if events else None,
            "time_metrics": {
                "days_after_order": (now - first.utc).days if first else 0,
                "days_of_transit": ((delivered or latest).utc - pickup.utc).days
                if pickup and latest
                else 0,
                "days_of_transit_done": (delivered.utc - pickup.utc).days
                if pickup and delivered
                else 0,
                "days_after_last_update": (now - latest.utc).days if latest else 0,
                "estimated_delivery_date": {
                    "source": "Official" if eta else None,
                    "from": iso(eta.replace(hour=8)) if eta else None,
                    "to": iso(eta) if eta else None,
                },
            },
            "milestone": milestone,
            "misc_info": {
                "risk_factor": 0,
                "service_type": "International" if snap.plan.international else "Standard",
                "weight_raw": f"{snap.plan.weight_kg} kg",
                "weight_kg": f"{snap.plan.weight_kg}",
                "pieces": "1",
                "dimensions": None,
                "customer_number": None,
                "reference_number": None,
                "local_number": None,
                "local_provider": None,
                "local_key": 0,
            },
            "tracking": {
                "providers_hash": zlib.crc32(f"{number}:{len(events)}".encode()),
                "providers": [
                    {
                        "provider": {
                            "key": key,
                            "name": _provider_name(key),
                            "alias": _provider_name(key),
                            "tel": None,
                            "homepage": None,
                            "country": snap.origin.country,
                        },
                        "service_type": None,
                        "latest_sync_status": "Success",
                        "latest_sync_time": iso_z(now),
                        "events_hash": zlib.crc32("|".join(e["time_utc"] for e in events).encode()),
                        "events": events,
                    }
                ],
            },
        },
    }


def _provider_name(key: int) -> str:
    return {
        7041: "DHL Paket",
        100001: "DHL Express",
        100002: "UPS",
        100003: "FedEx",
        21051: "USPS",
        3011: "China Post",
        11031: "Royal Mail",
        190096: "Singapore Post",
    }.get(key, "Carrier")


def _items(call: Call) -> list[dict[str, Any]] | Reply:
    if not call.request.header("17token"):
        return envelope_error(INVALID_KEY, "The access key is invalid or missing.", 401)
    try:
        body = call.request.json()
    except BadBody:
        return envelope_error(BAD_DATA, "The submitted data is not valid JSON.")
    if not isinstance(body, list) or not body:
        return envelope_error(BAD_DATA, "The request body must be a non-empty JSON array.")
    if len(body) > MAX_NUMBERS:
        return envelope_error(TOO_MANY, f"More than {MAX_NUMBERS} tracking numbers were submitted.")
    items = []
    for item in body:
        number = item.get("number") if isinstance(item, dict) else None
        if not isinstance(number, str) or not number.strip():
            return envelope_error(FIELD_REQUIRED, "Each item needs a number.")
        items.append({**item, "number": number.strip()})
    return items


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return envelope_error(429, "Request frequency exceeds the limit.", 429)
    return envelope_error(INTERNAL, "Internal service error, please retry later.", 500)


def register(call: Call) -> Reply:
    items = _items(call)
    if isinstance(items, Reply):
        return items
    accepted, rejected = [], []
    for item in items:
        number = item["number"]
        key = call.app.key(number)
        # Faults act on gettrackinfo; only "unknown" also keeps a number from registering.
        if call.app.state.fault_kind(CARRIER, key) == "unknown" or call.snapshot(number) is None:
            rejected.append(
                {
                    **_rejected(number, CARRIER_NOT_DETECTED, "The carrier cannot be detected."),
                    "carrier": 0,
                }
            )
            continue
        carrier = item.get("carrier") if isinstance(item.get("carrier"), int) else carrier_key(key)
        if call.app.state.register_17track(key, carrier):
            entry = {"origin": 1, "number": number, "carrier": carrier}
            if item.get("tag") is not None:
                entry["tag"] = item["tag"]
            accepted.append(entry)
        else:
            rejected.append(
                _rejected(
                    number,
                    ALREADY_REGISTERED,
                    f"The tracking number '{number}' is already registered.",
                )
            )
    return json_reply({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})


def gettrackinfo(call: Call) -> Reply:
    items = _items(call)
    if isinstance(items, Reply):
        return items
    numbers = [item["number"] for item in items]
    outcome = call.guard(numbers, fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    accepted, rejected = [], []
    for item in items:
        number = item["number"]
        key = call.app.key(number)
        registered = call.app.state.registration_17track(key)
        if registered is None:
            rejected.append(
                _rejected(
                    number,
                    NOT_REGISTERED,
                    f"The tracking number '{number}' is not registered; register it first.",
                )
            )
            continue
        snap = call.lookup(number, outcome)
        if snap is None:
            rejected.append(
                _rejected(number, CARRIER_NOT_DETECTED, "The carrier cannot be detected.")
            )
            continue
        carrier = item.get("carrier") if isinstance(item.get("carrier"), int) else registered
        accepted.append(render_item(number, carrier, snap, item.get("tag")))
    return json_reply({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})


def stoptrack(call: Call) -> Reply:
    """Accepted for registered numbers (the sandbox keeps tracking them anyway)."""
    return _registered_only(call, unregister=False)


def deletetrack(call: Call) -> Reply:
    return _registered_only(call, unregister=True)


def _registered_only(call: Call, *, unregister: bool) -> Reply:
    items = _items(call)
    if isinstance(items, Reply):
        return items
    accepted, rejected = [], []
    for item in items:
        number = item["number"]
        key = call.app.key(number)
        registered = call.app.state.registration_17track(key)
        if registered is None:
            rejected.append(
                _rejected(
                    number,
                    NOT_REGISTERED,
                    f"The tracking number '{number}' is not registered; register it first.",
                )
            )
            continue
        if unregister:
            call.app.state.unregister_17track(key)
        accepted.append({"number": number, "carrier": registered})
    return json_reply({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})


ROUTES: list[Route] = [
    route("POST", "/track/v2.2/register", register, CARRIER, "17track.register"),
    route("POST", "/track/v2.2/gettrackinfo", gettrackinfo, CARRIER, "17track.gettrackinfo"),
    route("POST", "/track/v2.2/stoptrack", stoptrack, CARRIER, "17track.stoptrack"),
    route("POST", "/track/v2.2/deletetrack", deletetrack, CARRIER, "17track.deletetrack"),
]
