"""The merchant pages' one date-time format: `{{ value|when }}`.

The format is the active locale's `DATETIME_FORMAT` (ours for English, "20 Nov 2026, 14:30",
lives in `resync_site/formats/en/formats.py`), in the current time zone: merchant views render in
the store's zone (`views._render`). `{{ value|when:"utc" }}` shows a wall-clock time stored as UTC
(a carrier scan of an unknown zone) without converting it.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter(expects_localtime=False)
def when(value: dt.datetime | None, zone: str = "") -> str:
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = value.astimezone(dt.UTC) if zone == "utc" else timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")
