"""Carrier push (17TRACK and AfterShip webhooks): signatures and payloads, pure (no I/O, no ORM).

- 17TRACK v2.2: header `sign` = lowercase hex SHA-256 of `<raw body>/<API key>`; body
  `{"event": "TRACKING_UPDATED" | "TRACKING_STOPPED", "data": {"number", "carrier",
  "track_info"}}`. `data` is the same item `gettrackinfo` returns in `accepted[]`.
- AfterShip: header `aftership-hmac-sha256` = base64 of HMAC-SHA256 of the raw body keyed with
  the webhook secret; body `{"event": "tracking_update", "msg": <tracking object>}`, the same
  tracking object `GET /trackings` returns.

A push is turned into a `TrackingResult` by the very functions the pull uses
(`seventeentrack.parse_track_info`, `aftership.parse_tracking`), so a pushed update and a
pulled one are the same data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import aftership, seventeentrack
from .base import TrackingResult
from .numbers import normalize_tracking_number
from .parsing import as_mapping, text

SEVENTEENTRACK = seventeentrack.CARRIER
AFTERSHIP = aftership.CARRIER
PROVIDERS = (SEVENTEENTRACK, AFTERSHIP)
SIGNATURE_HEADERS = {SEVENTEENTRACK: "sign", AFTERSHIP: "aftership-hmac-sha256"}

UPDATED = "updated"  # new tracking data: apply it
STOPPED = "stopped"  # the provider stopped tracking the number (17TRACK): poll it again
OTHER = "other"  # an event we do not act on


class BadPush(ValueError):
    """A verified body that is not a push we can read (no number, not an object)."""


@dataclass(frozen=True, slots=True)
class Push:
    provider: str
    event: str  # the provider's own event name, as sent
    kind: str  # UPDATED | STOPPED | OTHER
    tracking_number: str  # normalised (upper-case, no spaces or dashes)
    result: TrackingResult | None  # for UPDATED
    # How recent the pushed state is: the tracking's own update time (AfterShip `updated_at`),
    # else its latest event's time. Used to refuse an older push arriving after a newer one.
    source_time: dt.datetime | None = None


# --- Signatures ----------------------------------------------------------------------------------


def sign_17track(body: bytes, api_key: str) -> str:
    """17TRACK's `sign` header for `body`."""
    return hashlib.sha256(body + b"/" + api_key.encode("utf-8")).hexdigest()


def sign_aftership(body: bytes, secret: str) -> str:
    """AfterShip's `aftership-hmac-sha256` header for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(provider: str, body: bytes, secret: str) -> str:
    if provider == SEVENTEENTRACK:
        return sign_17track(body, secret)
    return sign_aftership(body, secret)


def signature_matches(provider: str, body: bytes, header: str | None, secret: str) -> bool:
    """True only with a secret configured and `header` the body's signature; constant time.
    17TRACK's hex digest is compared case-insensitively (hex has no meaning in its case)."""
    if not secret or not header:
        return False
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign(provider, body, secret).encode("ascii")
    if provider == SEVENTEENTRACK:
        given = given.lower()
    return hmac.compare_digest(expected, given)


# --- Payloads ------------------------------------------------------------------------------------


def _latest_event_time(result: TrackingResult) -> dt.datetime | None:
    return max((e.occurred_at for e in result.events), default=None)


def parse_17track(payload: Any) -> Push:
    """A 17TRACK v2.2 push → `Push` (BadPush when it names no number)."""
    if not isinstance(payload, Mapping):
        raise BadPush("17track push: the body is not a JSON object")
    event = text(payload.get("event"))
    data = as_mapping(payload.get("data"))
    number = normalize_tracking_number(text(data.get("number")))
    if not number:
        raise BadPush("17track push: data.number is missing")
    if event == "TRACKING_STOPPED":
        return Push(SEVENTEENTRACK, event, STOPPED, number, None)
    if event != "TRACKING_UPDATED":
        return Push(SEVENTEENTRACK, event, OTHER, number, None)
    result = seventeentrack.parse_track_info(data, tracking_number=number)
    return Push(SEVENTEENTRACK, event, UPDATED, number, result, _latest_event_time(result))


def parse_aftership(payload: Any) -> Push:
    """An AfterShip webhook → `Push` (BadPush when it names no number)."""
    if not isinstance(payload, Mapping):
        raise BadPush("aftership webhook: the body is not a JSON object")
    event = text(payload.get("event"))
    tracking = as_mapping(payload.get("msg"))
    number = normalize_tracking_number(text(tracking.get("tracking_number")))
    if not number:
        raise BadPush("aftership webhook: msg.tracking_number is missing")
    if event != "tracking_update":
        return Push(AFTERSHIP, event, OTHER, number, None)
    result = aftership.parse_tracking(tracking, tracking_number=number)
    updated = aftership.parse_datetime(tracking.get("updated_at"), what="updated_at")
    return Push(AFTERSHIP, event, UPDATED, number, result, updated or _latest_event_time(result))


def parse(provider: str, payload: Any) -> Push:
    return parse_17track(payload) if provider == SEVENTEENTRACK else parse_aftership(payload)


def push_number(provider: str, payload: Any) -> str:
    """Just the (normalised) tracking number a push is about ("" when it names none)."""
    body = as_mapping(payload)
    holder = as_mapping(body.get("data" if provider == SEVENTEENTRACK else "msg"))
    name = "number" if provider == SEVENTEENTRACK else "tracking_number"
    return normalize_tracking_number(text(holder.get(name)))
