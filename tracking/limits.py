"""Abuse limits on the public endpoints. The lookups are counted by django-ratelimit in the
"default" cache (Redis): each check counts the request and says how long the caller must wait
(0 = go on). Redis down: `LimitsUnavailable` — the lookup fails open (it serves from the
database).

The shopper's resync is limited per client too, but counted in the same Redis script as the
shipment's cooldown (`resync_limit` gives the limit; `shipments.cooldowns` counts): one round
trip for both, and Redis down is the resync's usual 503.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from resync_site.client_ip import client_key
from resync_site.rates import parse_rate
from shipments.cooldowns import ClientLimit
from shipments.redis_client import RedisError

__all__ = [
    "LimitsUnavailable",
    "client_key",
    "lookup_wait",
    "number_lookup_wait",
    "resync_limit",
]


class LimitsUnavailable(Exception):
    """The rate-limit counters (Redis) do not answer."""


def _wait(request: HttpRequest, *, group: str, value: str, rate: str) -> int:
    try:
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=rate,
            increment=True,
        )
    except (RedisError, OSError) as exc:
        raise LimitsUnavailable(str(exc)) from exc
    if usage is None or not usage["should_limit"]:
        return 0
    if usage["limit"] == 0:
        # django-ratelimit could not read its counter: treat as unavailable, not as abuse.
        raise LimitsUnavailable("rate-limit counter unreadable")
    return max(1, math.ceil(usage["time_left"]))


def _lookup_wait(request: HttpRequest, *, ip: str | None, group: str, key: str) -> int:
    """One lookup counted against the client's IP (one budget for every kind of lookup) and
    against what was typed (`group`: the order number or the tracking number)."""
    waits = [
        _wait(
            request,
            group="track-lookup-ip",
            value=client_key(ip),
            rate=settings.TRACK_LOOKUP_RATE_PER_IP,
        )
    ]
    if key:
        waits.append(
            _wait(request, group=group, value=key, rate=settings.TRACK_LOOKUP_RATE_PER_ORDER)
        )
    return max(waits)


def lookup_wait(request: HttpRequest, *, ip: str | None, order_key: str) -> int:
    """Count one lookup against the client's IP and the order number typed."""
    return _lookup_wait(request, ip=ip, group="track-lookup-order", key=order_key)


def number_lookup_wait(request: HttpRequest, *, ip: str | None, number_key: str) -> int:
    """Count one lookup by tracking number against the client's IP (the same budget as order
    lookups) and the number typed (as many tries as one order number gets)."""
    return _lookup_wait(request, ip=ip, group="track-lookup-number", key=number_key)


def resync_limit(ip: str | None) -> ClientLimit | None:
    """The client's budget of shopper resyncs (whatever token each names), or None when the
    abuse limits are switched off (`RATELIMIT_ENABLE`)."""
    if not settings.RATELIMIT_ENABLE:
        return None
    limit, window = parse_rate(settings.TRACK_RESYNC_RATE_PER_IP)
    return ClientLimit(client_key(ip), limit, window)
