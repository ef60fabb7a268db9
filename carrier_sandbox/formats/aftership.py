"""AfterShip Tracking: dated versions under `/tracking/{version}/…` and legacy `/v4/…`.

Header `as-api-key` (dated versions) or `aftership-api-key` (v4); either is accepted. Envelope
`{"meta": {"code", "message", "type"}, "data": …}`. Up to 2024-xx and in v4 a single tracking
is wrapped as `data.tracking` with `*_iso3` country fields; from 2025-01 `data` is the tracking
and countries are `*_country_region`. Checkpoints run oldest first. An unknown number is a 404
with meta code 4004.

Reads work for any known number (creating the tracking first is accepted but not required);
`POST /trackings` answers 4003 for a tracking that already exists and 4012 (no courier detected)
for a number no carrier knows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

from ..history import Event, Snapshot, home_carrier
from ..state import Fault
from . import native
from .base import BadBody, Call, Reply, Route, iso, json_reply, numbers_arg, route

CARRIER = "aftership"
RATE_LIMIT = 10

# kind → (tag, subtag, subtag_message)
KINDS: dict[str, tuple[str, str, str]] = {
    "pending": ("Pending", "Pending_001", "No information yet"),
    "label": ("InfoReceived", "InfoReceived_001", "Info Received"),
    "pickup": ("InTransit", "InTransit_002", "Acceptance scan"),
    "arrival": ("InTransit", "InTransit_001", "In Transit"),
    "processed": ("InTransit", "InTransit_001", "In Transit"),
    "departure": ("InTransit", "InTransit_007", "Departure scan"),
    "customs": ("InTransit", "InTransit_001", "In Transit"),
    "in_transit": ("InTransit", "InTransit_001", "In Transit"),
    "out_for_delivery": ("OutForDelivery", "OutForDelivery_001", "Out for Delivery"),
    "attempt": ("AttemptFail", "AttemptFail_001", "Failed Attempt"),
    "pickup_ready": ("AvailableForPickup", "AvailableForPickup_001", "Available for Pickup"),
    "delivered": ("Delivered", "Delivered_001", "Delivered"),
    "collected": ("Delivered", "Delivered_002", "Picked up by customer"),
    "exception": ("Exception", "Exception_001", "Exception"),
    "returning": ("Exception", "Exception_010", "Returning to sender"),
    "expired": ("Expired", "Expired_001", "Expired"),
}
SUBTAGS = {
    ("exception", "damaged"): ("Exception", "Exception_012", "Shipment damaged"),
}
SLUGS = {"dhl": "dhl", "ups": "ups", "fedex": "fedex", "usps": "usps"}
S10_SLUGS = {"CN": "china-post", "SG": "singapore-post", "GB": "royal-mail", "US": "usps"}


def _version(call: Call) -> str:
    return call.params.get("version", "v4")


def _legacy(version: str) -> bool:
    return version == "v4" or version < "2025-01"


def default_slug(number: str) -> str:
    home = home_carrier(number)
    if home == "s10":
        return S10_SLUGS.get(number[-2:], "china-post")
    if home == "dhl" and number.startswith("00340434"):
        return "dhl-germany"
    return SLUGS.get(home, "aftership-sandbox")


def tracking_ids(slug: str, number: str) -> tuple[str, str]:
    """(id, legacy_id): 32 hex characters and 24 lower-case alphanumerics."""
    digest = hashlib.sha256(f"{slug.lower()}:{number}".encode()).hexdigest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    value = int(digest[32:], 16)
    legacy = ""
    for _ in range(24):
        value, rest = divmod(value, 36)
        legacy += alphabet[rest]
    return digest[:32], legacy


def _meta(code: int, message: str, kind: str) -> dict[str, Any]:
    return {"code": code, "message": message, "type": kind}


def _headers(remaining: int = RATE_LIMIT - 1) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(RATE_LIMIT),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(time.time()) + 1),
    }


def envelope(data: Any, status: int = 200, meta: dict[str, Any] | None = None) -> Reply:
    meta = meta or _meta(
        status, "OK" if status == 200 else "Created", "OK" if status == 200 else "Created"
    )
    remaining = 0 if status == 429 else RATE_LIMIT - 1
    return json_reply({"meta": meta, "data": data}, status, headers=_headers(remaining))


def not_found() -> Reply:
    return envelope({}, 404, _meta(4004, "Tracking does not exist.", "NotFound"))


def _codes(event: Event) -> tuple[str, str, str]:
    return SUBTAGS.get((event.kind, event.reason), KINDS[event.kind])


def render_checkpoint(event: Event, slug: str, legacy: bool) -> dict[str, Any]:
    tag, subtag, subtag_message = _codes(event)
    place = event.place
    checkpoint: dict[str, Any] = {
        "created_at": iso(event.utc.replace(second=0) + _lag(event)),
        "slug": slug,
        "checkpoint_time": iso(event.occurred_at),
        "location": place.label,
        "city": place.city or None,
        "state": place.region or None,
        "zip": place.postal or None,
        "message": native.describe(event),
        "tag": tag,
        "subtag": subtag,
        "subtag_message": subtag_message,
        "raw_tag": native.KINDS[event.kind][0],
    }
    if legacy:
        checkpoint["coordinates"] = []
        checkpoint["country_iso3"] = place.country3 or None
        checkpoint["country_name"] = place.country_name if place.country else None
    else:
        checkpoint["coordinate"] = {"latitude": None, "longitude": None}
        checkpoint["country_region"] = place.country3 or None
        checkpoint["country_region_name"] = place.country_name if place.country else None
        checkpoint["events"] = []
        checkpoint["source"] = "carrier"
    return checkpoint


def _lag(event: Event) -> dt.timedelta:
    """AfterShip records a checkpoint a few minutes after the carrier scanned it."""
    return dt.timedelta(minutes=3 + event.occurred_at.second % 17)


def render_tracking(
    number: str, slug: str, snap: Snapshot | None, legacy: bool, created_at: float | None
) -> dict[str, Any]:
    tracking_id, legacy_id = tracking_ids(slug, number)
    events = list(reversed(snap.events)) if snap else []
    latest = snap.latest if snap else None
    tag, subtag, subtag_message = _codes(latest) if latest else KINDS["pending"]
    created = (
        dt.datetime.fromtimestamp(created_at, dt.UTC)
        if created_at is not None
        else (snap.plan.started_at if snap else dt.datetime.now(dt.UTC))
    ).replace(microsecond=0)
    updated = max([created, *(e.utc for e in events)])
    pickup = snap.first("pickup") if snap else None
    delivered = snap.first("delivered", "collected") if snap else None
    attempt = snap.first("attempt") if snap else None
    origin = snap.origin if snap else None
    destination = snap.destination if snap else None
    eta = snap.eta if snap else None
    tracking: dict[str, Any] = {
        "id": legacy_id if legacy else tracking_id,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "tracking_number": number,
        "slug": slug,
        "active": (snap.status not in ("delivered", "expired")) if snap else True,
        "custom_fields": None,
        "origin_state": origin.region or None if origin else None,
        "origin_city": origin.city if origin else None,
        "origin_postal_code": origin.postal if origin else None,
        "origin_raw_location": origin.label if origin else None,
        "destination_state": destination.region or None if destination else None,
        "destination_city": destination.city if destination else None,
        "destination_postal_code": destination.postal if destination else None,
        "destination_raw_location": destination.label if destination else None,
        "order_id": None,
        "shipment_package_count": 1,
        "shipment_pickup_date": iso(pickup.occurred_at) if pickup else None,
        "shipment_delivery_date": iso(delivered.occurred_at) if delivered else None,
        "shipment_type": (
            ("International" if snap.plan.international else "Standard") if snap else None
        ),
        "shipment_weight": {"unit": "kg", "value": snap.plan.weight_kg} if snap else None,
        "signed_by": "RECIPIENT" if delivered and delivered.reason == "signed" else None,
        "source": "api",
        "tag": tag,
        "subtag": subtag,
        "subtag_message": subtag_message,
        "title": number,
        "tracked_count": len(events),
        "language": None,
        "return_to_sender": bool(snap and snap.first("returning")),
        "first_attempted_at": iso(attempt.occurred_at) if attempt else None,
        "failed_delivery_attempts": snap.count("attempt") if snap else 0,
        "transit_time": ((delivered.utc - pickup.utc).days if delivered and pickup else None),
        "checkpoints": [render_checkpoint(e, slug, legacy) for e in events],
    }
    if legacy:
        tracking["legacy_id"] = legacy_id
        tracking["origin_country_iso3"] = origin.country3 if origin else None
        tracking["destination_country_iso3"] = destination.country3 if destination else None
        tracking["expected_delivery"] = iso(eta) if eta else None
        tracking["emails"] = []
        tracking["smses"] = []
        tracking["customer_name"] = None
        tracking["delivery_time"] = tracking["transit_time"]
    else:
        tracking["legacy_id"] = legacy_id
        tracking["origin_country_region"] = origin.country3 if origin else None
        tracking["destination_country_region"] = destination.country3 if destination else None
        tracking["courier_destination_country_region"] = (
            destination.country3 if destination else None
        )
        tracking["courier_estimated_delivery_date"] = {
            "estimated_delivery_date": eta.date().isoformat() if eta else None,
            "estimated_delivery_date_min": None,
            "estimated_delivery_date_max": None,
        }
        tracking["latest_estimated_delivery"] = (
            {"type": "specific", "source": "Carrier EDD", "datetime": iso(eta)} if eta else None
        )
        tracking["aftership_estimated_delivery_date"] = None
        tracking["on_time_status"] = None
    return tracking


def _wrap(tracking: dict[str, Any], legacy: bool) -> dict[str, Any]:
    return {"tracking": tracking} if legacy else tracking


def fault_reply(call: Call, fault: Fault) -> Reply:
    if fault.kind == "rate_limit":
        return envelope(
            {}, 429, _meta(429, "You have exceeded the API call rate limit.", "TooManyRequests")
        )
    return envelope(
        {}, 500, _meta(500, "Something went wrong on AfterShip's end.", "InternalError")
    )


def _authorised(call: Call) -> bool:
    return bool(call.request.header("as-api-key") or call.request.header("aftership-api-key"))


def _unauthorised() -> Reply:
    return envelope({}, 401, _meta(401, "Invalid API key.", "Unauthorized"))


def _created_at(call: Call, slug: str, number: str) -> float | None:
    entry = call.app.state.aftership_tracking(tracking_ids(slug, number)[0])
    return entry[2] if entry else None


def _read(call: Call, slug: str, number: str) -> Reply:
    version = _version(call)
    outcome = call.guard([number], fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    snap = call.lookup(number, outcome)
    if snap is None:
        return not_found()
    legacy = _legacy(version)
    call.app.state.note_aftership_read(call.app.key(number), slug)
    tracking = render_tracking(number, slug, snap, legacy, _created_at(call, slug, number))
    return envelope(_wrap(tracking, legacy))


def get_by_slug(call: Call) -> Reply:
    if not _authorised(call):
        return _unauthorised()
    return _read(call, call.params["slug"].strip().lower(), call.params["number"].strip())


def get_by_id(call: Call) -> Reply:
    if not _authorised(call):
        return _unauthorised()
    wanted = call.params["id"]
    for new_id, (slug, number, _) in call.app.state.aftership_trackings().items():
        if wanted in (new_id, tracking_ids(slug, number)[1]):
            return _read(call, slug, number)
    return not_found()


def list_trackings(call: Call) -> Reply:
    if not _authorised(call):
        return _unauthorised()
    request = call.request
    numbers = numbers_arg(request.arg("tracking_numbers") or request.arg("keyword"))
    slugs = numbers_arg(request.arg("slug"))
    if not numbers:
        numbers = [n for (_, n, _) in call.app.state.aftership_trackings().values()]
    outcome = call.guard(numbers, fault_reply)
    if isinstance(outcome, Reply):
        return outcome
    legacy = _legacy(_version(call))
    trackings = []
    for number in numbers:
        snap = call.lookup(number, outcome)
        if snap is None:
            continue
        slug = slugs[0] if len(slugs) == 1 else default_slug(call.app.key(number))
        created_at = _created_at(call, slug, number)
        call.app.state.note_aftership_read(call.app.key(number), slug)
        trackings.append(render_tracking(number, slug, snap, legacy, created_at))
    if legacy:
        data: dict[str, Any] = {
            "page": 1,
            "limit": 100,
            "count": len(trackings),
            "trackings": trackings,
        }
    else:
        data = {
            "pagination": {"total": len(trackings), "next_cursor": None, "has_next_page": False},
            "trackings": trackings,
        }
    return envelope(data)


def create(call: Call) -> Reply:
    if not _authorised(call):
        return _unauthorised()
    legacy = _legacy(_version(call))
    try:
        body = call.request.json()
    except BadBody:
        return envelope({}, 400, _meta(4001, "Invalid JSON data.", "BadRequest"))
    if isinstance(body, dict) and isinstance(body.get("tracking"), dict):
        body = body["tracking"]
    number = body.get("tracking_number") if isinstance(body, dict) else None
    if not isinstance(number, str) or not number.strip():
        return envelope(
            {}, 400, _meta(4005, "The value of `tracking_number` is invalid.", "BadRequest")
        )
    number = number.strip()
    key = call.app.key(number)
    if call.app.state.fault_kind(CARRIER, key) == "unknown" or call.snapshot(number) is None:
        message = "Cannot detect a courier for this tracking number."
        return envelope({}, 400, _meta(4012, message, "BadRequest"))
    slug = str(body.get("slug") or default_slug(key)).strip().lower()
    tracking_id, legacy_id = tracking_ids(slug, number)
    if not call.app.state.create_aftership(tracking_id, slug, number):
        ids = {"id": legacy_id if legacy else tracking_id, "slug": slug, "tracking_number": number}
        return envelope(
            _wrap(ids, legacy), 400, _meta(4003, "Tracking already exists.", "BadRequest")
        )
    snap = call.snapshot(number)
    tracking = render_tracking(number, slug, snap, legacy, _created_at(call, slug, number))
    return envelope(_wrap(tracking, legacy), 201, _meta(201, "Created", "Created"))


_BASES = ("/tracking/{version}", "/v4")

ROUTES: list[Route] = []
for _base in _BASES:
    ROUTES += [
        route(
            "GET", f"{_base}/trackings/{{slug}}/{{number}}", get_by_slug, CARRIER, "aftership.get"
        ),
        route("GET", f"{_base}/trackings/{{id}}", get_by_id, CARRIER, "aftership.get_by_id"),
        route("GET", f"{_base}/trackings", list_trackings, CARRIER, "aftership.list"),
        route("POST", f"{_base}/trackings", create, CARRIER, "aftership.create"),
    ]
