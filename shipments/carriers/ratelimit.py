"""A per-carrier rate limit shared by every process: GCRA in one atomic Redis script.

`acquire(carrier)` either admits one request now or raises `Throttled` with the exact wait;
it never sleeps. A 429 from the carrier calls `pause(carrier, seconds)`, which holds every
process back for the carrier's `Retry-After`.
"""

from __future__ import annotations

import contextlib

from django.conf import settings

from shipments.redis_client import RedisError, get_redis

from .base import Throttled

# KEYS[1] = GCRA state (theoretical arrival time, ms), KEYS[2] = pause key
# ARGV[1] = emission interval ms, ARGV[2] = burst tolerance ms
# Returns 0 when admitted, else milliseconds to wait.
_GCRA = """
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - burst
if now < allow_at then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now + burst + 1000))
return 0
"""

_script = None


def _keys(carrier: str) -> list[str]:
    return [f"resync:carrier:{carrier}:gcra", f"resync:carrier:{carrier}:paused"]


def acquire(carrier: str) -> None:
    """Admit one request to `carrier` or raise `Throttled(retry_after=seconds)`."""
    global _script
    rate = settings.CARRIER_RATE_LIMITS.get(carrier) or 0
    if rate <= 0:
        return
    interval_ms = 1000.0 / rate
    # A small burst may go at once (a tenth of a second's worth, or up to 3 requests for slow
    # carriers, so one call's register-then-fetch fits); beyond it requests are spaced evenly,
    # so the rate holds over any window of a second or more.
    burst_ms = interval_ms * (max(1.0, min(rate, 3.0), rate / 10) - 1)
    try:
        client = get_redis()
        if _script is None:
            _script = client.register_script(_GCRA)
        wait_ms = int(_script(keys=_keys(carrier), args=[interval_ms, burst_ms], client=client))
    except RedisError:
        # Without Redis we cannot coordinate; do not stop tracking for it.
        return
    if wait_ms > 0:
        raise Throttled(
            f"{carrier}: over our rate limit",
            carrier=carrier,
            retry_after=wait_ms / 1000,
        )


def pause(carrier: str, seconds: float | None) -> None:
    """Hold every process back from `carrier` for `seconds` (a 429's Retry-After; default 1 s)."""
    ms = max(1, int((seconds if seconds is not None else 1.0) * 1000))
    with contextlib.suppress(RedisError):
        get_redis().set(_keys(carrier)[1], "1", px=ms)
