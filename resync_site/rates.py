"""Rates as the settings write them (`TRACK_RESYNC_RATE_PER_IP=30/h`), read once.

The form is django-ratelimit's, which counts the lookups: `N/u` or `N/Ku`, u one of s, m, h, d
(`5/10m`: 5 per 10 minutes). The settings check every rate at start-up, so a typo stops the
start rather than answering 500 on the first request that counts.
"""

from __future__ import annotations

import re
from functools import cache

from django.core.exceptions import ImproperlyConfigured

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@cache
def parse_rate(rate: str) -> tuple[int, int]:
    """`"30/h"` → (30, 3600): requests, seconds. Raises ValueError for anything else."""
    match = _RATE.match(rate or "")
    if not match or int(match[2] or 1) == 0:
        raise ValueError(f"not a rate: {rate!r} (e.g. 30/h, 100/d, 5/10m)")
    return int(match[1]), int(match[2] or 1) * _PERIODS[match[3]]


def check_rates(**rates: str) -> None:
    """Start-up: every named setting is a rate, or ImproperlyConfigured names the bad one."""
    for name, rate in rates.items():
        try:
            parse_rate(rate)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from None
