from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from shipments.windows import BadWindow, parse_window, window_bounds

NY = zoneinfo.ZoneInfo("America/New_York")


def test_today_and_yesterday_follow_the_store_zone_around_midnight():
    # 03:30 UTC on 10 March is still 9 March, 23:30 in New York.
    now = dt.datetime(2026, 3, 10, 3, 30, tzinfo=dt.UTC)
    start, end = window_bounds("today", time_zone="America/New_York", now=now)
    assert (start, end) == (dt.datetime(2026, 3, 9, tzinfo=NY), dt.datetime(2026, 3, 10, tzinfo=NY))
    start, end = window_bounds("yesterday", time_zone="America/New_York", now=now)
    assert (start, end) == (dt.datetime(2026, 3, 8, tzinfo=NY), dt.datetime(2026, 3, 9, tzinfo=NY))
    # The same instant in UTC is already the 10th.
    start, _ = window_bounds("today", time_zone="UTC", now=now)
    assert start == dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def test_day_windows_across_a_dst_change_are_calendar_days():
    # 8 March 2026 has 23 hours in New York.
    now = dt.datetime(2026, 3, 9, 12, tzinfo=NY)
    start, end = window_bounds("yesterday", time_zone="America/New_York", now=now)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)
    start, end = window_bounds("7d", time_zone="America/New_York", now=now)
    assert start == dt.datetime(2026, 3, 3, tzinfo=NY)
    assert end == dt.datetime(2026, 3, 10, tzinfo=NY)


@pytest.mark.parametrize(("window", "days"), [("7d", 7), ("30d", 30), ("60d", 60)])
def test_last_n_days_include_today(window, days):
    now = dt.datetime(2026, 6, 30, 8, tzinfo=dt.UTC)
    start, end = window_bounds(window, time_zone="Asia/Tokyo", now=now)
    assert (end - start) == dt.timedelta(days=days)
    assert start <= now < end


@pytest.mark.parametrize("bad", ["", "8d", "TODAY", "x" * 500, None, 7])
def test_bad_windows_are_refused(bad):
    with pytest.raises(BadWindow):
        parse_window(bad)
