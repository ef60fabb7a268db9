"""A carrier's wall-clock time without a UTC offset, read in the scan place's time zone.

DHL Express and UPS (when they send no UTC fields) give the local time of the place where the
parcel was scanned, with no offset. That time is never UTC: we resolve the place's IANA zone
from its country (and its state or province, for countries that span several zones), and when
the zone cannot be known we say so instead of guessing.

Data, both maintained outside this project (docs/carriers.md, "Local times"):
* country → zones: IANA's own `zone.tab`, as shipped by the `tzdata` package (the same release
  that `zoneinfo` falls back to);
* ISO 3166-2 subdivision → zone: the table of the `pytzsub` package (US states, Canadian
  provinces, Australian states, …), checked against the country's IANA zones.

Rules: a subdivision the table knows → its zone. Otherwise the country: when all of its zones
give the same UTC offset for that wall-clock time (one zone, or several that agree then, like
Europe/Berlin and Europe/Busingen), that zone; else the zone is unknown.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytzsub

# Where the `pytzsub` table contradicts IANA's zone.tab, which we follow: zone.tab puts "ON & QC
# (most areas)" in America/Toronto; America/Winnipeg is only Ontario's far west.
_SUBDIVISION_CORRECTIONS = {"CA-ON": "America/Toronto"}


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A carrier's offset-less time, placed: `occurred_at` is aware either way.

    `zone_known` False: the zone could not be resolved, and `occurred_at` is the carrier's wall
    clock labelled UTC, fit for ordering only; it must not be presented as UTC.
    """

    occurred_at: dt.datetime
    zone_known: bool
    wall_clock: dt.datetime | None  # the carrier's own offset-less time (naive); None if exact


@functools.cache
def _zone_table() -> dict[str, tuple[str, ...]]:
    """IANA zone.tab: ISO 3166-1 alpha-2 country code → its zones, principal zone first."""
    raw = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for line in raw.splitlines():
        if not line or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) >= 3:
            table.setdefault(columns[0].upper(), []).append(columns[2])
    return {country: tuple(zones) for country, zones in table.items()}


def country_zones(country: str) -> tuple[str, ...]:
    """The IANA zones of a country (ISO 3166-1 alpha-2, any case); () when unknown."""
    return _zone_table().get(country.strip().upper(), ())


@functools.cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def subdivision_zone(country: str, subdivision: str) -> str | None:
    """The zone of an ISO 3166-2 subdivision ("US", "NJ" → "America/New_York"), else None.

    `subdivision` may also be given whole ("US-NJ"). A zone that is not one of the country's
    IANA zones is not trusted.
    """
    country = country.strip().upper()
    sub = subdivision.strip().upper()
    if not country or not sub:
        return None
    code = sub if sub.startswith(f"{country}-") else f"{country}-{sub}"
    name = _SUBDIVISION_CORRECTIONS.get(code) or pytzsub.sub_timezone(code)
    if name is None or name not in country_zones(country):
        return None
    return name


def zone_for(wall_clock: dt.datetime, country: str, subdivision: str = "") -> ZoneInfo | None:
    """The zone in which `wall_clock` (naive) was read at that place; None when unknown."""
    name = subdivision_zone(country, subdivision)
    if name is not None:
        return _zone(name)
    zones = [zone for zone in map(_zone, country_zones(country)) if zone is not None]
    if not zones:
        return None
    offsets = {wall_clock.replace(tzinfo=zone).utcoffset() for zone in zones}
    return zones[0] if len(offsets) == 1 else None


def place_local_time(wall_clock: dt.datetime, country: str, subdivision: str = "") -> LocalTime:
    """`wall_clock` (a carrier time without offset) read in the scan place's zone.

    An aware value is returned as it is (its offset is the carrier's word).
    """
    if wall_clock.tzinfo is not None:
        return LocalTime(wall_clock, True, None)
    zone = zone_for(wall_clock, country, subdivision)
    if zone is None:
        return LocalTime(wall_clock.replace(tzinfo=dt.UTC), False, wall_clock)
    return LocalTime(wall_clock.replace(tzinfo=zone), True, wall_clock)
