"""A store's delivery rule, and the delivery date it gives when the carrier gives none.

Pure computation, free of Django (models validate with it, presenters show what it says):
count business days in the store's time zone from when the parcel shipped (or, for an order
not shipped yet, from when it was placed, adding the store's processing days).

- A day counts when its weekday is one of the store's business days (ISO: 1 = Monday).
- The count starts on the day the parcel shipped, in the store's zone. Shipped after the store's
  cut-off time, or on a day that is not a business day, it starts on the next business day.
- Transit "2-4" is a range: the earliest and the latest date; "3" is one date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DEFAULT_BUSINESS_DAYS = "12345"  # Monday to Friday
MAX_DAYS = 60
_TRANSIT = re.compile(r"^\s*(\d{1,2})\s*(?:[-–]\s*(\d{1,2})\s*)?$")


class BadRule(ValueError):
    """A transit span or a set of business days that cannot be used."""


@dataclass(frozen=True, slots=True)
class Span:
    """A number of business days, or a range of them (`low` == `high` for one number)."""

    low: int
    high: int

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def parse_span(value: str) -> Span:
    """`"3"` or `"2-4"` (an en dash works too) → a Span; anything else raises BadRule."""
    match = _TRANSIT.match(value or "")
    if not match:
        raise BadRule(value)
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    if high < low or high > MAX_DAYS:
        raise BadRule(value)
    return Span(low, high)


def parse_business_days(value: str) -> frozenset[int]:
    """`"12345"` → {1, 2, 3, 4, 5}: ISO weekdays, at least one, each at most once."""
    days = [int(c) for c in value or "" if c.isdigit()]
    if not days or len(set(days)) != len(days) or any(d < 1 or d > 7 for d in days):
        raise BadRule(value)
    if len(days) != len((value or "").strip()):
        raise BadRule(value)
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class DeliveryRule:
    """What a store says about its deliveries."""

    transit: Span
    processing_days: int = 0
    transit_by_carrier: Mapping[str, Span] | None = None
    business_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    cutoff: dt.time | None = None  # store's local time; shipped later → counts from next day
    time_zone: str = "UTC"

    def transit_for(self, carrier: str | None) -> Span:
        """The carrier's own transit days when the store set them, else the default."""
        overrides = self.transit_by_carrier or {}
        return overrides.get(carrier or "", self.transit)


def rule_from_fields(
    *,
    transit_days: str,
    transit_by_carrier: Mapping[str, object] | None,
    processing_days: int,
    business_days: str,
    cutoff: dt.time | None,
    time_zone: str,
) -> DeliveryRule | None:
    """A store's rule from its stored fields; None when it has none (no transit days) or an
    unusable one (stored around the validation): no estimate rather than a wrong one."""
    if not transit_days:
        return None
    try:
        return DeliveryRule(
            transit=parse_span(transit_days),
            processing_days=processing_days,
            transit_by_carrier={
                code: parse_span(value)
                for code, value in (transit_by_carrier or {}).items()
                if isinstance(value, str)
            },
            business_days=parse_business_days(business_days),
            cutoff=cutoff,
            time_zone=time_zone,
        )
    except BadRule:
        return None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A delivery date or range (`earliest` == `latest` for one date) and where it came from."""

    earliest: dt.date
    latest: dt.date
    source: str  # "carrier" | "store"

    @property
    def is_range(self) -> bool:
        return self.latest != self.earliest


def _next_business_day(day: dt.date, days: frozenset[int]) -> dt.date:
    day += dt.timedelta(days=1)
    while day.isoweekday() not in days:
        day += dt.timedelta(days=1)
    return day


def add_business_days(day: dt.date, count: int, days: frozenset[int]) -> dt.date:
    """`count` business days after `day` (`day` itself when `count` is 0)."""
    for _ in range(count):
        day = _next_business_day(day, days)
    return day


def first_counted_day(moment: dt.datetime, rule: DeliveryRule) -> dt.date:
    """The business day the count starts from: the day of `moment` in the store's zone, or the
    next business day when that is not one or `moment` is after the cut-off."""
    local = moment.astimezone(ZoneInfo(rule.time_zone))
    day = local.date()
    late = rule.cutoff is not None and local.time().replace(tzinfo=None) > rule.cutoff
    if day.isoweekday() not in rule.business_days or late:
        day = _next_business_day(day, rule.business_days)
    return day


def estimate_delivery(
    rule: DeliveryRule,
    *,
    carrier: str | None,
    shipped_at: dt.datetime | None,
    placed_at: dt.datetime | None = None,
) -> Estimate | None:
    """The store's estimate for a parcel shipped at `shipped_at` (an aware datetime), or, not
    shipped yet, for an order placed at `placed_at` (processing days added); None without
    either."""
    moment = shipped_at or placed_at
    if moment is None:
        return None
    start = first_counted_day(moment, rule)
    if shipped_at is None:
        start = add_business_days(start, rule.processing_days, rule.business_days)
    span = rule.transit_for(carrier)
    return Estimate(
        earliest=add_business_days(start, span.low, rule.business_days),
        latest=add_business_days(start, span.high, rule.business_days),
        source="store",
    )
