"""The store's delivery rule (`shipments.delivery`): business days, cut-off, zones, ranges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shipments.delivery import (
    BadRule,
    DeliveryRule,
    Span,
    estimate_delivery,
    parse_business_days,
    parse_span,
)

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


def at(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def rule(transit: str = "2", **fields) -> DeliveryRule:
    return DeliveryRule(transit=parse_span(transit), **fields)


def days(estimate) -> tuple[dt.date, dt.date]:
    return estimate.earliest, estimate.latest


# 2026-11-27 is a Friday; 2026-11-30 a Monday.
FRI = dt.date(2026, 11, 27)
MON = dt.date(2026, 11, 30)
TUE, WED, THU = (MON + dt.timedelta(days=n) for n in (1, 2, 3))


@pytest.mark.parametrize(
    ("text", "span"),
    [("3", Span(3, 3)), ("2-4", Span(2, 4)), (" 2 – 4 ", Span(2, 4)), ("0", Span(0, 0))],
)
def test_transit_days_read_as_a_number_or_a_range(text, span):
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["", "x", "4-2", "2-", "-3", "1-61", "2..4", "100"])
def test_transit_days_that_cannot_be_read(text):
    with pytest.raises(BadRule):
        parse_span(text)


def test_business_days_are_iso_weekdays():
    assert parse_business_days("12345") == {1, 2, 3, 4, 5}
    assert parse_business_days("123456") == {1, 2, 3, 4, 5, 6}
    for bad in ("", "0", "8", "112", "1 2", "12a"):
        with pytest.raises(BadRule):
            parse_business_days(bad)


def test_shipped_on_a_monday_morning_counts_business_days_from_that_day():
    estimate = estimate_delivery(rule("2"), carrier="dhl", shipped_at=at(BERLIN, 2026, 11, 30, 9))
    assert days(estimate) == (WED, WED)
    assert estimate.source == "store"
    assert not estimate.is_range


def test_the_weekend_is_skipped():
    # Friday + 2 business days is Tuesday, not Sunday.
    estimate = estimate_delivery(rule("2"), carrier=None, shipped_at=at(BERLIN, 2026, 11, 27, 9))
    assert days(estimate) == (TUE, TUE)


def test_shipped_on_a_saturday_counts_from_monday():
    estimate = estimate_delivery(rule("1"), carrier=None, shipped_at=at(BERLIN, 2026, 11, 28, 9))
    assert days(estimate) == (TUE, TUE)


def test_after_the_cut_off_counts_from_the_next_business_day():
    cutoff = rule("1", cutoff=dt.time(14, 0), time_zone="Europe/Berlin")
    before = estimate_delivery(cutoff, carrier=None, shipped_at=at(BERLIN, 2026, 11, 30, 13, 59))
    after = estimate_delivery(cutoff, carrier=None, shipped_at=at(BERLIN, 2026, 11, 30, 14, 1))
    assert days(before) == (TUE, TUE)
    assert days(after) == (WED, WED)


def test_a_los_angeles_store_shipping_at_2330_on_a_friday():
    # 07:30 UTC on Saturday: a Friday parcel after the cut-off counts from Monday, in LA's zone.
    la = rule("1-2", cutoff=dt.time(17, 0), time_zone="America/Los_Angeles")
    shipped = at(LA, 2026, 11, 27, 23, 30)
    assert shipped.astimezone(dt.UTC).date() == dt.date(2026, 11, 28)
    assert days(estimate_delivery(la, carrier=None, shipped_at=shipped)) == (TUE, WED)


def test_the_days_are_the_stores_not_utcs():
    # Thursday 23:30 in LA is Friday in UTC: counted from Thursday, Friday is the next day.
    la = rule("1", time_zone="America/Los_Angeles")
    shipped = at(LA, 2026, 11, 26, 23, 30)
    assert days(estimate_delivery(la, carrier=None, shipped_at=shipped)) == (FRI, FRI)
    utc = rule("1", time_zone="UTC")
    assert days(estimate_delivery(utc, carrier=None, shipped_at=shipped)) == (MON, MON)
    # Tokyo is ahead: Monday 08:00 there is still Sunday in UTC.
    tokyo = rule("1", time_zone="Asia/Tokyo")
    early = at(TOKYO, 2026, 11, 30, 8)
    assert days(estimate_delivery(tokyo, carrier=None, shipped_at=early)) == (TUE, TUE)


def test_the_cut_off_is_read_on_the_stores_clock():
    # 15:00 in Berlin is 14:00 UTC: after a 14:30 cut-off in Berlin, before it in UTC.
    berlin = rule("1", cutoff=dt.time(14, 30), time_zone="Europe/Berlin")
    shipped = at(BERLIN, 2026, 11, 30, 15)
    assert days(estimate_delivery(berlin, carrier=None, shipped_at=shipped)) == (WED, WED)


def test_a_range_spans_business_days():
    estimate = estimate_delivery(rule("2-4"), carrier=None, shipped_at=at(BERLIN, 2026, 11, 26, 9))
    # Thursday: +2 is Monday, +4 is Wednesday.
    assert days(estimate) == (MON, WED)
    assert estimate.is_range


def test_per_carrier_transit_days_replace_the_default():
    carriers = rule("3-5", transit_by_carrier={"dhl": parse_span("1")})
    shipped = at(BERLIN, 2026, 11, 30, 9)
    assert days(estimate_delivery(carriers, carrier="dhl", shipped_at=shipped)) == (TUE, TUE)
    assert days(estimate_delivery(carriers, carrier="ups", shipped_at=shipped)) == (
        THU,
        TUE + dt.timedelta(days=6),
    )


def test_a_store_that_delivers_on_saturdays():
    six = rule("1", business_days=frozenset({1, 2, 3, 4, 5, 6}))
    shipped = at(BERLIN, 2026, 11, 27, 9)
    assert days(estimate_delivery(six, carrier=None, shipped_at=shipped)) == (
        dt.date(2026, 11, 28),
        dt.date(2026, 11, 28),
    )


def test_not_shipped_yet_adds_the_processing_days_to_the_placed_date():
    processing = rule("2", processing_days=1)
    placed = at(BERLIN, 2026, 11, 27, 10)  # Friday: ships Monday, arrives Wednesday
    assert days(estimate_delivery(processing, carrier=None, shipped_at=None, placed_at=placed)) == (
        WED,
        WED,
    )
    # Shipped, processing is behind it: only the transit counts.
    assert days(estimate_delivery(processing, carrier=None, shipped_at=placed)) == (TUE, TUE)


def test_nothing_to_count_from_is_no_estimate():
    assert estimate_delivery(rule("2"), carrier=None, shipped_at=None) is None
