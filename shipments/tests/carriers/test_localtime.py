"""Carrier times without a UTC offset are the scan place's local time (docs/carriers.md §0).

The DHL and UPS payloads here are ours, written in the shapes the carriers document: DHL's
Unified Tracking `ShipmentEvent` (a timestamp without offset, as DHL's own return-shipment
example shows it, and `location.address.countryCode`) and the UPS Track API `Activity` (local
`date` + `time` without `gmtDate`/`gmtTime`/`gmtOffset`, and `location.address.stateProvince` /
`countryCode`; `gmtTime` as "HH:MM:SS" as real answers send it). The places and times are the
issue's examples: a Milan scan at 21:30, a New Jersey one, a Mexican one without a state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from shipments.carriers import dhl, localtime, ups
from shipments.carriers.base import TrackingEventData
from shipments.carriers.statuses import Status as S

from . import support

UTC = dt.UTC
ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


# --- The resolution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "zone"),
    [
        ("IT", "", "Europe/Rome"),  # one zone
        ("it", "", "Europe/Rome"),
        ("DE", "", "Europe/Berlin"),  # Berlin and Busingen agree: the principal zone
        ("US", "NJ", "America/New_York"),
        ("US", "US-NJ", "America/New_York"),
        ("US", "CA", "America/Los_Angeles"),
        ("CA", "ON", "America/Toronto"),  # the data set's error, corrected from IANA
        ("AU", "QLD", "Australia/Brisbane"),
        ("IT", "XX", "Europe/Rome"),  # an unknown region of a one-zone country
    ],
)
def test_zone_resolved(country: str, subdivision: str, zone: str) -> None:
    found = localtime.zone_for(dt.datetime(2025, 3, 4, 21, 30), country, subdivision)
    assert found is not None
    assert found.key == zone


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [
        ("US", ""),  # several zones, no state
        ("MX", ""),
        ("ES", ""),  # the Canary Islands keep another time
        ("US", "ZZ"),  # a state nobody knows
        ("XX", ""),  # not a country
        ("", ""),
    ],
)
def test_zone_unknown(country: str, subdivision: str) -> None:
    assert localtime.zone_for(dt.datetime(2025, 3, 4, 21, 30), country, subdivision) is None


def test_place_local_time_keeps_the_wall_clock() -> None:
    known = localtime.place_local_time(dt.datetime(2025, 3, 4, 21, 30), "IT")
    assert known == localtime.LocalTime(
        dt.datetime(2025, 3, 4, 21, 30, tzinfo=ROME), True, dt.datetime(2025, 3, 4, 21, 30)
    )
    assert known.occurred_at.astimezone(UTC) == dt.datetime(2025, 3, 4, 20, 30, tzinfo=UTC)

    unknown = localtime.place_local_time(dt.datetime(2025, 3, 4, 21, 30), "US")
    assert unknown.zone_known is False
    assert unknown.wall_clock == dt.datetime(2025, 3, 4, 21, 30)
    assert unknown.occurred_at == dt.datetime(2025, 3, 4, 21, 30, tzinfo=UTC)  # ordering only

    aware = dt.datetime(2025, 3, 4, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert localtime.place_local_time(aware, "IT") == localtime.LocalTime(aware, True, None)


def test_every_subdivision_zone_is_one_of_its_countrys() -> None:
    assert localtime.subdivision_zone("US", "NJ") in localtime.country_zones("US")
    assert localtime.country_zones("IT") == ("Europe/Rome",)
    assert localtime.country_zones("XX") == ()


# --- DHL ------------------------------------------------------------------------------------------


def test_dhl_express_local_times() -> None:
    result = support.parse_one(dhl, "express_local_times.json", "1234567891")
    leipzig, milan, mexico = result.events

    # With an offset: unchanged.
    assert leipzig.occurred_at == dt.datetime(2025, 3, 6, 9, 2, tzinfo=UTC)
    assert leipzig.occurred_at.utcoffset() == dt.timedelta(hours=1)
    assert leipzig.wall_clock is None
    assert leipzig.time_zone_known

    # Milan, 21:30 local: 21:30 Europe/Rome, 20:30 UTC (not 21:30 UTC, an hour late).
    assert milan == TrackingEventData(
        occurred_at=dt.datetime(2025, 3, 4, 21, 30, tzinfo=ROME),
        status=S.IN_TRANSIT,
        description="Processed at MILAN - ITALY",
        location="MILAN - ITALY, IT",
        raw_code="transit",
        wall_clock=dt.datetime(2025, 3, 4, 21, 30),
    )
    assert milan.occurred_at.tzinfo == ROME
    assert milan.occurred_at.hour == 21

    # Mexico spans several zones and DHL gives no state: the wall clock, zone unknown.
    assert mexico.time_zone_known is False
    assert mexico.wall_clock == dt.datetime(2025, 3, 3, 18, 15)
    assert mexico.occurred_at == dt.datetime(2025, 3, 3, 18, 15, tzinfo=UTC)


# --- UPS ------------------------------------------------------------------------------------------


def test_ups_local_times_and_colon_gmt_time() -> None:
    result = support.parse_one(ups, "local_times.json", "1Z5V3Y880312345678")
    hodgkins, new_jersey, label = result.events

    # gmtTime "07:47:00" (not only "074700"), shown in the scan's offset.
    assert hodgkins.occurred_at == dt.datetime(2025, 3, 5, 7, 47, tzinfo=UTC)
    assert hodgkins.occurred_at.utcoffset() == dt.timedelta(hours=-6)
    assert hodgkins.wall_clock is None
    assert hodgkins.time_zone_known

    # New Jersey, 21:30 local without an offset: America/New_York (02:30 UTC the next day,
    # not 21:30 UTC, five hours early).
    assert new_jersey.occurred_at == dt.datetime(2025, 3, 4, 21, 30, tzinfo=NEW_YORK)
    assert new_jersey.occurred_at.astimezone(UTC) == dt.datetime(2025, 3, 5, 2, 30, tzinfo=UTC)
    assert new_jersey.occurred_at.tzinfo == NEW_YORK
    assert new_jersey.time_zone_known
    assert new_jersey.wall_clock == dt.datetime(2025, 3, 4, 21, 30)

    # The US without a state, local time "10:12:00": zone unknown, never claimed as UTC.
    assert label.time_zone_known is False
    assert label.wall_clock == dt.datetime(2025, 3, 4, 10, 12)


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("20250305", "074700", dt.datetime(2025, 3, 5, 7, 47)),
        ("20250305", "74700", dt.datetime(2025, 3, 5, 7, 47)),
        ("20250305", "07:47:00", dt.datetime(2025, 3, 5, 7, 47)),
        ("20250305", "7:47:05", dt.datetime(2025, 3, 5, 7, 47, 5)),
        ("20250305", "07:47", dt.datetime(2025, 3, 5, 7, 47)),
        ("20250305", "23:59:59", dt.datetime(2025, 3, 5, 23, 59, 59)),
        ("20250305", "25:00:00", None),
        ("20250305", "07:47:00:00", None),
        ("20250305", "7:4a:00", None),
        ("2025-03-05", "074700", None),
        ("20250305", "", dt.datetime(2025, 3, 5)),  # "" zero-filled, as before
    ],
)
def test_ups_time_formats(date: str, time: str, expected: dt.datetime | None) -> None:
    assert ups._combine(date, time) == expected


def test_ups_gmt_fields_with_colons() -> None:
    when = ups.parse_activity_time(
        {"gmtDate": "20250305", "gmtTime": "13:15:00", "gmtOffset": "-06:00"}
    )
    assert when == dt.datetime(2025, 3, 5, 13, 15, tzinfo=UTC)


# --- Fingerprints ---------------------------------------------------------------------------------


def _old_fingerprint(when: dt.datetime, code: str, text: str, place: str) -> str:
    """The fingerprint as it was computed before local times were resolved."""
    key = "\x1f".join((when.astimezone(UTC).isoformat(timespec="seconds"), code, text, place))
    return hashlib.sha256(key.encode()).hexdigest()


def test_fingerprints_of_stored_events_do_not_change() -> None:
    with_offset = TrackingEventData(
        occurred_at=dt.datetime(2025, 3, 6, 10, 2, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        status=S.IN_TRANSIT,
        description="Arrived",
        location="Leipzig, DE",
        raw_code="transit",
    )
    assert with_offset.fingerprint == _old_fingerprint(
        with_offset.occurred_at, "transit", "Arrived", "Leipzig, DE"
    )
    # Without an offset the old code read the wall clock as UTC; the hash still does.
    wall = dt.datetime(2025, 3, 4, 21, 30)
    local = partial(
        TrackingEventData,
        status=S.IN_TRANSIT,
        description="Processed",
        location="MILAN - ITALY, IT",
        raw_code="transit",
        wall_clock=wall,
    )
    old = _old_fingerprint(wall.replace(tzinfo=UTC), "transit", "Processed", "MILAN - ITALY, IT")
    assert local(occurred_at=wall.replace(tzinfo=ROME)).fingerprint == old
    assert local(occurred_at=wall.replace(tzinfo=UTC), time_zone_known=False).fingerprint == old
