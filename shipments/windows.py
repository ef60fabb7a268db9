"""Bulk resync windows: which shipped dates a window covers, in the store's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .models import BULK_WINDOWS, SyncWindow

# Days back from today, today included: "Last 7 days" is today and the 6 days before it.
_DAYS = {
    SyncWindow.TODAY: 1,
    SyncWindow.LAST_7_DAYS: 7,
    SyncWindow.LAST_30_DAYS: 30,
    SyncWindow.LAST_60_DAYS: 60,
}


class BadWindow(ValueError):
    pass


def parse_window(value: object) -> SyncWindow:
    """The window for `today|yesterday|7d|30d|60d`, else `BadWindow` (`import` is no request's
    window: it names the run that pulls a CSV import's shipments)."""
    if value in BULK_WINDOWS:
        return SyncWindow(str(value))
    raise BadWindow(
        f"Unknown window {str(value)[:40]!r}: use one of "
        + ", ".join(w.value for w in BULK_WINDOWS)
    )


def _local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def window_bounds(
    window: SyncWindow | str, *, time_zone: str, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of shipped_at for `window`, as aware datetimes (midnights in the store zone)."""
    window = parse_window(window)
    tz = zoneinfo.ZoneInfo(time_zone)
    today = now.astimezone(tz).date()
    tomorrow = today + dt.timedelta(days=1)
    if window == SyncWindow.YESTERDAY:
        return _local_midnight(today - dt.timedelta(days=1), tz), _local_midnight(today, tz)
    days = _DAYS[window]
    return _local_midnight(today - dt.timedelta(days=days - 1), tz), _local_midnight(tomorrow, tz)
