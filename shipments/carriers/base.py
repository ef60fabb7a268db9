"""The one small interface every carrier adapter implements, and what it returns.

An adapter is two halves (docs/architecture.md §2): pure parse functions that turn the
carrier's JSON into the dataclasses below, and the network I/O that fetches that JSON. Adapters
never touch the ORM, never retry and never sleep: they classify what went wrong
and the caller decides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, ClassVar

from .statuses import Status

# What carrier text may not keep (SPEC §10): NUL and the other C0/C1 control characters
# (Unicode category Cc) but tab, line feed and carriage return, which are plain white space (and
# part of events' fingerprints since the first pull); lone surrogates, which no database can
# store. Bidi controls (U+202A–U+202E, U+2066–U+2069) are format characters: kept as sent, and
# isolated where the pages show carrier text.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Carrier text as we store it: as sent, less NUL bytes and other control characters."""
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _clean_text_fields(obj: Any) -> None:
    """Every string field of a frozen dataclass through `clean_text`, in place. Called from the
    result dataclasses' `__post_init__`, so that no adapter can hand over uncleaned text."""
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, str) and _UNSTORABLE.search(value):
            object.__setattr__(obj, name, _UNSTORABLE.sub("", value))


@dataclass(frozen=True, slots=True)
class TrackingEventData:
    occurred_at: dt.datetime  # always time-zone aware
    status: Status
    description: str = ""
    location: str = ""
    raw_code: str = ""
    # A time the carrier gave without a UTC offset is the scan place's local time
    # (shipments/carriers/localtime.py). `wall_clock` keeps it as given (naive); False
    # `time_zone_known` says the place's zone could not be resolved: `occurred_at` is then that
    # wall clock labelled UTC, for ordering only, and must not be presented as UTC.
    wall_clock: dt.datetime | None = None
    time_zone_known: bool = True

    def __post_init__(self) -> None:
        _clean_text_fields(self)

    @property
    def fingerprint(self) -> str:
        """Identity of the event as the carrier reported it; the same event hashes the same.

        The time is the carrier's own: the instant when it gave an offset, else its wall clock
        (hashed as the naive value read as UTC, as before zones were resolved, so that events
        stored then are recognised and not added again).
        """
        when = (
            self.wall_clock.replace(tzinfo=dt.UTC)
            if self.wall_clock is not None
            else self.occurred_at.astimezone(dt.UTC)
        )
        key = "\x1f".join(
            (
                when.isoformat(timespec="seconds"),
                self.raw_code,
                self.description.strip(),
                self.location.strip(),
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TrackingResult:
    carrier: str
    tracking_number: str
    status: Status
    sub_status: str = ""
    raw_status_code: str = ""
    raw_status_text: str = ""
    estimated_delivery: dt.datetime | None = None
    origin: str = ""
    destination: str = ""
    events: tuple[TrackingEventData, ...] = field(default_factory=tuple)  # newest first
    # Aggregators only (17TRACK, AfterShip): the carrier that really carries the parcel, as the
    # aggregator reports it. The code is our catalogue code when it is one of our carriers, else
    # the aggregator's own id of that carrier; the URL is the parcel on that carrier's own site.
    actual_carrier_code: str = ""
    actual_carrier_name: str = ""
    actual_carrier_url: str = ""

    def __post_init__(self) -> None:
        _clean_text_fields(self)


# --- Errors ---------------------------------------------------------------------------------------


class CarrierError(Exception):
    """Base of everything an adapter raises. `transient` tells the caller whether to retry."""

    transient: ClassVar[bool] = False
    code: ClassVar[str] = "carrier_error"

    def __init__(self, message: str, *, carrier: str = "", retry_after: float | None = None):
        message = clean_text(message)  # it reaches the logs: no control characters
        super().__init__(message)
        self.message = message
        self.carrier = carrier
        self.retry_after = retry_after


class TrackingNumberNotFound(CarrierError):
    """Permanent, for one number: the carrier does not know it."""

    code = "not_found"


class InvalidCredentials(CarrierError):
    """Permanent, for the whole carrier: our key or client credentials are refused."""

    code = "bad_credentials"


class CarrierRejected(CarrierError):
    """Permanent: the carrier refused the request for another reason (e.g. an invalid number)."""

    code = "rejected"


class RateLimited(CarrierError):
    """Transient: the carrier (or our own limiter) says wait `retry_after` seconds."""

    transient = True
    code = "rate_limited"


class AccountLimitReached(RateLimited):
    """Transient, for the whole carrier: our account's daily limit or quota is used up.

    The adapter pauses the carrier for every process (like a 429) until `retry_after`; the
    numbers asked about are rescheduled, not failed.
    """


class Throttled(RateLimited):
    """Transient: our own shared rate limit has no slot free yet (the carrier was not called).

    Waiting for a slot is not a failed attempt: callers reschedule without counting it.
    """

    code = "throttled"


class CarrierUnavailable(CarrierError):
    """Transient: 5xx, timeout, connection refused, a body we could not read."""

    transient = True
    code = "unavailable"


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one `track` call gives back: a result or an error for every number asked about."""

    results: dict[str, TrackingResult] = field(default_factory=dict)
    errors: dict[str, CarrierError] = field(default_factory=dict)


class CarrierAdapter:
    """Subclasses set the class attributes and implement `track`."""

    code: ClassVar[str]  # its name, batch size and links are in the carrier catalogue

    def track(self, tracking_numbers: list[str]) -> BatchOutcome:
        """Ask the carrier about these numbers (any count; the adapter splits into batches).

        Raises `CarrierError` subclasses only for failures that concern the whole call (bad
        credentials, carrier down, rate limited); per-number failures go in `BatchOutcome.errors`.
        """
        raise NotImplementedError
