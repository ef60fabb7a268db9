"""Mutable state of a running sandbox: added events, faults, registrations, tokens and stats.

Every method takes the one lock, so handler threads can share a single instance.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from shipments.carriers import catalogue
from shipments.carriers.numbers import normalize_tracking_number

from .history import Event

FAULT_KINDS = ("fail", "hang", "rate_limit", "unknown", "none")
# The catalogue's carriers, then the sandbox's own native format.
CARRIERS = (*catalogue.CODES, "sandbox")


class FaultError(ValueError):
    """A fault description the control API cannot accept."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # fail | hang | rate_limit | unknown
    retry_after: str = "1"  # Retry-After header value (delta-seconds or an HTTP date)
    times: int | None = None  # None: until cleared
    seconds: float = 30.0  # for hang

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault | None:
        """Parse a control-API body; None for kind "none" (clear)."""
        kind = str(body.get("kind") or "")
        if kind not in FAULT_KINDS:
            raise FaultError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if kind == "none":
            return None
        retry_after = body.get("retry_after", "1")
        if retry_after is None or str(retry_after).strip() == "":
            retry_after = "1"
        times = body.get("times")
        if times is not None:
            try:
                times = int(times)
            except (TypeError, ValueError):
                raise FaultError("times must be a whole number") from None
            if times < 1:
                raise FaultError("times must be at least 1")
        try:
            seconds = float(body.get("seconds", 30))
        except (TypeError, ValueError):
            raise FaultError("seconds must be a number") from None
        if not 0 <= seconds <= 3600:
            raise FaultError("seconds must be between 0 and 3600")
        return cls(kind=kind, retry_after=str(retry_after).strip(), times=times, seconds=seconds)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "retry_after": self.retry_after,
            "times": self.times,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class Triggered:
    """What the faults that matched one request ask the handler to do."""

    error: Fault | None = None  # fail or rate_limit: the whole request gets the error
    hang_seconds: float = 0.0
    unknown: frozenset[str] = frozenset()  # numbers to answer as not found
    all_unknown: bool = False  # a carrier-wide "unknown" fault

    def is_unknown(self, number: str) -> bool:
        return self.all_unknown or number in self.unknown


@dataclass
class _Stats:
    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_carrier: Counter[str] = field(default_factory=Counter)
    token_requests: Counter[str] = field(default_factory=Counter)
    numbers_requested: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Token:
    carrier: str
    client_id: str
    issued_at: float  # epoch seconds
    expires_at: float


class SandboxState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._added: dict[str, list[Event]] = {}
        self._number_faults: dict[str, Fault] = {}
        self._carrier_faults: dict[str, Fault] = {}
        self._registered: dict[str, int] = {}  # 17TRACK: number → carrier key
        self._created: dict[str, tuple[str, str, float]] = {}  # AfterShip: id → slug, number, at
        # AfterShip: numbers read through the API (the sandbox reads any known number without a
        # create; real AfterShip only has created ones): number → slug, for pushes.
        self._read_aftership: dict[str, str] = {}
        self._tokens: dict[str, Token] = {}
        self._stats = _Stats()
        self._seq = 0

    # --- Added events -----------------------------------------------------------------------

    def add_event(self, number: str, event: Event) -> Event:
        with self._lock:
            self._seq += 1
            event = replace(event, seq=self._seq)
            self._added.setdefault(number, []).append(event)
            return event

    def added_events(self, number: str) -> tuple[Event, ...]:
        with self._lock:
            return tuple(self._added.get(number, ()))

    # --- Faults -----------------------------------------------------------------------------

    def set_number_fault(self, number: str, fault: Fault | None) -> None:
        with self._lock:
            if fault is None:
                self._number_faults.pop(number, None)
            else:
                self._number_faults[number] = fault

    def set_carrier_fault(self, carrier: str, fault: Fault | None) -> None:
        with self._lock:
            if fault is None:
                self._carrier_faults.pop(carrier, None)
            else:
                self._carrier_faults[carrier] = fault

    def faults(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                "numbers": {n: f.as_json() for n, f in self._number_faults.items()},
                "carriers": {c: f.as_json() for c, f in self._carrier_faults.items()},
            }

    def fault_kind(self, carrier: str, number: str) -> str | None:
        """The kind of fault set for this number (or else its carrier), without using it up."""
        with self._lock:
            fault = self._number_faults.get(number) or self._carrier_faults.get(carrier)
            return fault.kind if fault else None

    def trigger(self, carrier: str, numbers: list[str]) -> Triggered:
        """Faults matching a request for `numbers` at `carrier`; each use counts against `times`."""
        if not self._carrier_faults and not self._number_faults:
            return Triggered()
        with self._lock:
            matched: list[tuple[Fault, str | None]] = []
            carrier_fault = self._carrier_faults.get(carrier)
            if carrier_fault is not None:
                matched.append((carrier_fault, None))
                self._use(self._carrier_faults, carrier, carrier_fault)
            for number in dict.fromkeys(numbers):
                fault = self._number_faults.get(number)
                if fault is not None:
                    matched.append((fault, number))
                    self._use(self._number_faults, number, fault)
        error: Fault | None = None
        hang = 0.0
        unknown: set[str] = set()
        all_unknown = False
        for fault, number in matched:
            if fault.kind == "hang":
                hang = max(hang, fault.seconds)
            elif fault.kind == "unknown":
                if number is None:
                    all_unknown = True
                else:
                    unknown.add(number)
            elif error is None or (fault.kind == "fail" and error.kind != "fail"):
                error = fault
        return Triggered(error, hang, frozenset(unknown), all_unknown)

    @staticmethod
    def _use(table: dict[str, Fault], key: str, fault: Fault) -> None:
        if fault.times is None:
            return
        if fault.times <= 1:
            table.pop(key, None)
        else:
            table[key] = replace(fault, times=fault.times - 1)

    # --- Carrier-side registrations ---------------------------------------------------------

    def register_17track(self, number: str, carrier_key: int) -> bool:
        """True if newly registered, False if it already was."""
        with self._lock:
            if number in self._registered:
                return False
            self._registered[number] = carrier_key
            return True

    def registration_17track(self, number: str) -> int | None:
        with self._lock:
            return self._registered.get(number)

    def unregister_17track(self, number: str) -> bool:
        with self._lock:
            return self._registered.pop(number, None) is not None

    def create_aftership(self, tracking_id: str, slug: str, number: str) -> bool:
        """True if newly created, False if that tracking already exists."""
        with self._lock:
            if tracking_id in self._created:
                return False
            self._created[tracking_id] = (slug, number, time.time())
            return True

    def aftership_tracking(self, tracking_id: str) -> tuple[str, str, float] | None:
        with self._lock:
            return self._created.get(tracking_id)

    def aftership_trackings(self) -> dict[str, tuple[str, str, float]]:
        with self._lock:
            return dict(self._created)

    def note_aftership_read(self, number: str, slug: str) -> None:
        with self._lock:
            self._read_aftership.setdefault(number, slug)

    def aftership_followed(self, number: str) -> list[tuple[str, str, float | None]]:
        """(slug, number as sent, created at) of each AfterShip tracking of `number` (a key),
        created or read: what an AfterShip account would push about."""
        with self._lock:
            out = [
                (slug, n, at)
                for slug, n, at in self._created.values()
                if normalize_tracking_number(n) == number
            ]
            slug = self._read_aftership.get(number)
        if slug is not None and all(s != slug for s, _, _ in out):
            out.append((slug, number, None))
        return out

    def forget_number(self, number: str) -> None:
        """Drop everything the control API or clients attached to one number."""
        with self._lock:
            self._added.pop(number, None)
            self._number_faults.pop(number, None)
            self._registered.pop(number, None)
            self._read_aftership.pop(number, None)
            for key in [k for k, v in self._created.items() if v[1] == number]:
                del self._created[key]

    # --- OAuth tokens -----------------------------------------------------------------------

    def issue_token(self, carrier: str, client_id: str, lifetime: int) -> tuple[str, Token]:
        """A new random access token for `carrier`, valid for `lifetime` seconds."""
        now = time.time()
        token = Token(carrier, client_id, now, now + lifetime)
        value = secrets.token_urlsafe(32)
        with self._lock:
            if len(self._tokens) > 10000:  # drop expired ones now and then
                self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[value] = token
        return value, token

    def token_valid(self, carrier: str, value: str) -> bool:
        if not value:
            return False
        with self._lock:
            token = self._tokens.get(value)
        return token is not None and token.carrier == carrier and token.expires_at > time.time()

    # --- Stats ------------------------------------------------------------------------------

    def count(self, route: str, carrier: str, *, token: bool = False) -> None:
        with self._lock:
            self._stats.requests += 1
            self._stats.by_route[route] += 1
            self._stats.by_carrier[carrier] += 1
            if token:
                self._stats.token_requests[carrier] += 1

    def count_numbers(self, carrier: str, n: int) -> None:
        with self._lock:
            self._stats.numbers_requested[carrier] += n

    def stats(self) -> dict[str, Any]:
        with self._lock:
            s = self._stats
            return {
                "requests": s.requests,
                "by_route": dict(s.by_route),
                "by_carrier": dict(s.by_carrier),
                "token_requests": dict(s.token_requests),
                "numbers_requested": dict(s.numbers_requested),
            }

    def reset(self) -> None:
        """Forget added events, faults, registrations and stats (issued tokens stay valid)."""
        with self._lock:
            self._added.clear()
            self._number_faults.clear()
            self._carrier_faults.clear()
            self._registered.clear()
            self._created.clear()
            self._read_aftership.clear()
            self._stats = _Stats()
