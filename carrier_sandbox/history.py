"""Deterministic, realistic tracking histories that unfold with wall-clock time.

Every tracking number gets one *plan*: a route (origin, hubs or gateways, destination) and a
chronological list of events, generated from a seed derived from the number alone, so every
carrier format renders the same underlying history. The plan starts at
`epoch - (hash % 14 days)` and its steps are hours apart; a *snapshot* at `now` shows only the
events that have already happened, plus any events added through the control API.

Most parcels go label → pick-up → scans through hubs → out for delivery → delivered; about 15%
take a detour: an exception (bad address then return, damage, weather or customs delay), a failed
delivery attempt (then redelivered, or held for pick-up), or delivery to a pick-up point.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from shipments.carriers.numbers import detect_carrier, normalize_tracking_number

from .geo import CITIES, COUNTRIES, GATEWAYS, HUBS, Place

# Internal event kinds and the normalised status (docs/contract.md §3) each one means.
KIND_STATUS: dict[str, str] = {
    "pending": "pending",
    "label": "info_received",
    "pickup": "in_transit",
    "arrival": "in_transit",
    "processed": "in_transit",
    "departure": "in_transit",
    "customs": "in_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "attempt": "failed_attempt",
    "pickup_ready": "available_for_pickup",
    "delivered": "delivered",
    "collected": "delivered",
    "exception": "exception",
    "returning": "exception",
    "expired": "expired",
}

# The kind an event added through the control API gets for each normalised status.
STATUS_KIND: dict[str, str] = {
    "pending": "pending",
    "info_received": "label",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "failed_attempt": "attempt",
    "available_for_pickup": "pickup_ready",
    "delivered": "delivered",
    "exception": "exception",
    "expired": "expired",
}

STATUSES = tuple(STATUS_KIND)
NO_ETA_STATUSES = frozenset({"delivered", "expired", "exception", "available_for_pickup"})
UNKNOWN_PREFIXES = ("NOTFOUND", "00000000")
TIMELINE_SPREAD = dt.timedelta(days=14)

_S10 = re.compile(r"^[A-Z]{2}\d{9}([A-Z]{2})$")
_DHL_PAKET = re.compile(r"^00340434\d{12}$")


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    occurred_at: dt.datetime  # aware, in the zone of `place`, whole seconds
    place: Place
    reason: str = ""  # refines the kind: e.g. exception "address", delivered "mailbox"
    description: str = ""  # only for added events; formats otherwise use their own wording
    added: bool = False
    seq: int = 0  # order of added events within one second

    @property
    def status(self) -> str:
        return KIND_STATUS[self.kind]

    @property
    def utc(self) -> dt.datetime:
        return self.occurred_at.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Plan:
    number: str
    home: str  # the carrier whose number format this is ("sandbox" when none)
    origin: Place
    destination: Place
    international: bool
    weight_kg: float
    events: tuple[Event, ...]  # chronological; may reach past `now`
    times: tuple[float, ...] = field(repr=False)  # UTC timestamps of `events`, for bisect

    @property
    def started_at(self) -> dt.datetime:
        return self.events[0].utc


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a carrier knows about a number at `now`."""

    number: str
    plan: Plan
    events: tuple[Event, ...]  # newest first
    now: dt.datetime
    eta: dt.datetime | None  # aware, destination zone

    @property
    def latest(self) -> Event | None:
        return self.events[0] if self.events else None

    @property
    def status(self) -> str:
        return self.events[0].status if self.events else "pending"

    @property
    def origin(self) -> Place:
        return self.plan.origin

    @property
    def destination(self) -> Place:
        return self.plan.destination

    def first(self, *kinds: str) -> Event | None:
        """The oldest visible event of one of these kinds."""
        for event in reversed(self.events):
            if event.kind in kinds:
                return event
        return None

    def count(self, *kinds: str) -> int:
        return sum(1 for event in self.events if event.kind in kinds)


def is_unknown_number(number: str) -> bool:
    """Numbers no carrier knows (unless events were added for them through the control API)."""
    return normalize_tracking_number(number).startswith(UNKNOWN_PREFIXES)


def home_carrier(number: str) -> str:
    number = normalize_tracking_number(number)
    if _DHL_PAKET.match(number):
        return "dhl"
    if _S10.match(number):
        return "s10"
    return detect_carrier(number) or "sandbox"


def epoch_seconds(epoch: dt.datetime) -> int:
    return int(epoch.astimezone(dt.UTC).timestamp())


def plan_for(number: str, epoch: dt.datetime) -> Plan:
    """The full (past and future) plan of a number; cached, the same for the same inputs."""
    return _plan(normalize_tracking_number(number), epoch_seconds(epoch))


def snapshot(
    number: str,
    *,
    epoch: dt.datetime,
    now: dt.datetime,
    added: tuple[Event, ...] = (),
) -> Snapshot | None:
    """The history visible at `now`, newest first; None for an unknown number.

    Added events take over the timeline: planned events after the first added one are dropped,
    since the carrier has now said something the plan did not foresee.
    """
    number = normalize_tracking_number(number)
    if is_unknown_number(number) and not added:
        return None
    plan = _plan(number, epoch_seconds(epoch))
    cutoff = now.timestamp()
    if added:
        cutoff = min(cutoff, min(e.utc.timestamp() for e in added) - 1)
    visible = 0 if is_unknown_number(number) else bisect.bisect_right(plan.times, cutoff)
    planned = plan.events[:visible]
    extra = [e for e in added if e.utc <= now]
    merged = sorted((*planned, *extra), key=lambda e: (e.utc, e.added, e.seq), reverse=True)
    eta = _eta(plan, planned[-1] if planned else None, merged[0] if merged else None)
    return Snapshot(number, plan, tuple(merged), now, eta)


def make_added_event(
    *,
    status: str,
    place: Place,
    now: dt.datetime,
    description: str = "",
    seq: int = 0,
) -> Event:
    """An event reported right now (control API)."""
    zone = place.zone
    occurred = now.astimezone(dt.UTC).replace(microsecond=0).astimezone(zone)
    return Event(
        kind=STATUS_KIND[status],
        occurred_at=occurred,
        place=place,
        description=description,
        added=True,
        seq=seq,
    )


# --- Generation -----------------------------------------------------------------------------------


def _eta(plan: Plan, last_planned: Event | None, latest: Event | None) -> dt.datetime | None:
    """The day of the next planned delivery round (20:00 local), while one is still ahead."""
    if latest is None or latest.status in NO_ETA_STATUSES:
        return None
    since = (last_planned or latest).utc
    for event in plan.events:
        if event.kind in ("out_for_delivery", "pickup_ready") and event.utc >= since:
            local = event.occurred_at
            return local.replace(hour=20, minute=0, second=0)
    return None


class _Builder:
    def __init__(self, start: dt.datetime, rng: random.Random) -> None:
        self.t = start
        self.rng = rng
        self.events: list[Event] = []

    def wait(self, low_hours: float, high_hours: float) -> None:
        self.t += dt.timedelta(
            seconds=self.rng.randint(int(low_hours * 3600), int(high_hours * 3600))
        )

    def add(self, kind: str, place: Place, reason: str = "") -> None:
        if self.events and self.t <= self.events[-1].utc:
            self.t = self.events[-1].utc + dt.timedelta(minutes=self.rng.randint(7, 40))
        occurred = self.t.replace(microsecond=0).astimezone(place.zone)
        self.events.append(Event(kind, occurred, place, reason))

    def next_morning(self, place: Place, earliest: int = 7, latest: int = 9) -> None:
        """Move to the next working morning at `place` (the delivery round)."""
        local = self.t.astimezone(place.zone)
        day = local.date() if local.hour < 5 else local.date() + dt.timedelta(days=1)
        while day.weekday() == 6:  # no rounds on Sundays
            day += dt.timedelta(days=1)
        seconds = self.rng.randint(earliest * 3600, latest * 3600 + 1800)
        moment = dt.datetime.combine(day, dt.time(), tzinfo=place.zone) + dt.timedelta(
            seconds=seconds
        )
        self.t = max(moment.astimezone(dt.UTC), self.t + dt.timedelta(minutes=30))


def _pick(rng: random.Random, places: tuple[Place, ...], *avoid: Place) -> Place:
    choices = [p for p in places if p not in avoid] or list(places)
    return rng.choice(choices)


def _route(number: str, home: str, rng: random.Random) -> tuple[str, str]:
    """(origin country, destination country) from the number's format."""
    if home in ("ups", "fedex", "usps"):
        return "US", "US"
    if home == "dhl":
        if _DHL_PAKET.match(number) or rng.random() < 0.5:
            return "DE", "DE"
        return rng.choice(("DE", "GB", "NL", "CN")), rng.choice(("US", "GB", "FR", "AU", "CA"))
    if home == "s10":
        match = _S10.match(number)
        origin = match.group(1) if match and match.group(1) in CITIES else "CN"
        return origin, rng.choice(
            [c for c in ("US", "GB", "DE", "AU", "CA", "FR", "NL") if c != origin]
        )
    roll = rng.random()
    if roll < 0.5:
        return "US", "US"
    if roll < 0.7:
        return "DE", "DE"
    if roll < 0.8:
        return "GB", "GB"
    origin = rng.choice(("CN", "DE", "GB", "US", "SG"))
    return origin, rng.choice([c for c in ("US", "GB", "DE", "AU", "CA", "JP") if c != origin])


@lru_cache(maxsize=65536)
def _plan(number: str, epoch_ts: int) -> Plan:
    home = home_carrier(number)
    digest = hashlib.sha256(f"{home}:{number}".encode()).digest()
    offset = int.from_bytes(digest[:8], "big") % int(TIMELINE_SPREAD.total_seconds())
    rng = random.Random(digest)  # noqa: S311 - demo data, not secrets
    start = dt.datetime.fromtimestamp(epoch_ts - offset, dt.UTC)

    origin_country, dest_country = _route(number, home, rng)
    origin = rng.choice(CITIES[origin_country])
    destination = _pick(rng, CITIES[dest_country], origin)
    international = origin_country != dest_country
    outcome = rng.randrange(100)

    b = _Builder(start, rng)
    b.add("label", origin)
    if 83 <= outcome < 85:  # the label was printed but the parcel never handed over
        events = tuple(b.events)
        return _finish(number, home, origin, destination, international, rng, events)

    b.wait(4, 30)
    b.add("pickup", origin)
    exception_kind = ""
    if outcome >= 95:
        exception_kind = rng.choice(
            ("address", "damaged", "weather", "customs" if international else "weather")
        )
    hubs: list[Place] = []
    if international:
        hubs.append(_pick(rng, GATEWAYS[origin_country]))
    else:
        hubs.extend(rng.sample(list(HUBS.get(origin_country, GATEWAYS[origin_country])), k=1))
        if origin_country in HUBS and rng.random() < 0.6:
            hubs.append(_pick(rng, HUBS[origin_country], *hubs))
    trouble_at = rng.randrange(len(hubs))
    for i, hub in enumerate(hubs):
        b.wait(3, 12)
        b.add("arrival", hub)
        if rng.random() < 0.5:
            b.wait(0.5, 3)
            b.add("processed", hub)
        if i == trouble_at and exception_kind in ("damaged", "weather"):
            b.wait(1, 6)
            b.add("exception", hub, exception_kind)
            if exception_kind == "damaged":
                return _finish(
                    number, home, origin, destination, international, rng, tuple(b.events)
                )
            b.wait(20, 36)
            b.add("processed", hub)
        b.wait(1, 5)
        b.add("departure", hub)
    if international:
        gateway = _pick(rng, GATEWAYS[dest_country])
        b.wait(10, 30)
        b.add("arrival", gateway)
        if exception_kind == "customs":
            b.wait(3, 12)
            b.add("exception", gateway, "customs")
            b.wait(24, 72)
        else:
            b.wait(3, 30)
        b.add("customs", gateway)
        b.wait(1, 6)
        b.add("departure", gateway)
    b.wait(3, 12)
    b.add("arrival", destination, "delivery_unit")

    if 92 <= outcome < 95:  # delivered to a pick-up point
        b.next_morning(destination, 8, 11)
        b.add("pickup_ready", destination, "pickup_point")
        if rng.random() < 0.6:
            b.wait(24, 96)
            b.add("collected", destination)
        return _finish(number, home, origin, destination, international, rng, tuple(b.events))

    b.next_morning(destination)
    b.add("out_for_delivery", destination)
    if exception_kind == "address":
        b.wait(2, 6)
        b.add("exception", destination, "address")
        b.wait(24, 48)
        b.add("returning", destination)
    elif 85 <= outcome < 89:  # nobody home, delivered the next day
        b.wait(2, 8)
        b.add("attempt", destination, "no_one_home")
        b.next_morning(destination)
        b.add("out_for_delivery", destination)
        b.wait(1, 6)
        b.add("delivered", destination, rng.choice(("front_door", "signed")))
    elif 89 <= outcome < 92:  # nobody home, held for pick-up
        b.wait(2, 8)
        b.add("attempt", destination, "no_one_home")
        b.next_morning(destination, 9, 11)
        b.add("pickup_ready", destination, "after_attempt")
        if rng.random() < 0.7:
            b.wait(24, 72)
            b.add("collected", destination)
    else:
        b.wait(1.5, 7)
        b.add(
            "delivered", destination, rng.choice(("front_door", "mailbox", "signed", "reception"))
        )
    return _finish(number, home, origin, destination, international, rng, tuple(b.events))


def _finish(
    number: str,
    home: str,
    origin: Place,
    destination: Place,
    international: bool,
    rng: random.Random,
    events: tuple[Event, ...],
) -> Plan:
    return Plan(
        number=number,
        home=home,
        origin=origin,
        destination=destination,
        international=international,
        weight_kg=round(rng.uniform(0.2, 12.0), 1),
        events=events,
        times=tuple(e.utc.timestamp() for e in events),
    )


__all__ = [
    "COUNTRIES",
    "Event",
    "KIND_STATUS",
    "Plan",
    "STATUSES",
    "STATUS_KIND",
    "Snapshot",
    "home_carrier",
    "is_unknown_number",
    "make_added_event",
    "plan_for",
    "snapshot",
]
