"""Refused shopper resyncs, counted in Redis instead of written one row each (issue #13).

One counter per store, shipment, client (IPv4 address or IPv6 /64), reason and minute; the
minute is Redis's own clock, so every web process agrees on it and a minute that is over gets
no more counts. `services.refusals` writes one audit row per counter once its minute is over.

    resync:refusals:pending                                      the counters not yet written
    resync:refusals:{minute}:{store}:{shipment}:{client}:{reason}  a hash: count, first, ip, …
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.commands.core import Script

from .redis_client import RedisError, RedisUnavailable, get_redis

PENDING_KEY = "resync:refusals:pending"
PREFIX = "resync:refusals:"
# A counter that nobody writes (beat down for days) goes away on its own.
TTL_SECONDS = 7 * 24 * 3600

# KEYS: pending set. ARGV: store, shipment, client, reason, ip, retry_after, ttl.
# One atomic step: count, remember the first request's time and address, list the counter.
_COUNT = """
local now = redis.call('TIME')
local minute = math.floor(tonumber(now[1]) / 60)
local key = 'resync:refusals:' .. minute .. ':' .. ARGV[1] .. ':' .. ARGV[2] .. ':'
  .. ARGV[3] .. ':' .. ARGV[4]
if redis.call('HINCRBY', key, 'count', 1) == 1 then
  local first = now[1] .. '.' .. string.format('%06d', tonumber(now[2]))
  redis.call('HSET', key, 'store', ARGV[1], 'shipment', ARGV[2], 'reason', ARGV[4],
    'ip', ARGV[5], 'minute', minute, 'first', first)
  redis.call('EXPIRE', key, ARGV[7])
  redis.call('SADD', KEYS[1], key)
end
redis.call('HSET', key, 'retry_after', ARGV[6])
return 1
"""


@dataclass(frozen=True, slots=True)
class RefusalCount:
    """One counter whose minute is over: what its audit row says."""

    key: str
    store_id: int
    shipment_id: int
    reason: str
    ip_address: str | None
    count: int
    first_at: float  # epoch seconds of its first request
    retry_after: int | None


def _script() -> Script:
    return get_redis().register_script(_COUNT)


def count(
    *, store_id: int, shipment_id: int, client: str, reason: str, ip: str | None, retry_after: int
) -> None:
    """Count one refused request. Raises `RedisUnavailable` (the caller writes its row then)."""
    try:
        _script()(
            keys=[PENDING_KEY],
            args=[store_id, shipment_id, client, reason, ip or "", retry_after, TTL_SECONDS],
        )
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(str(exc)) from exc


def _minute_of(key: str) -> int:
    try:
        return int(key[len(PREFIX) :].split(":", 1)[0])
    except ValueError:
        return -1


def closed(*, now: float | None = None) -> list[RefusalCount]:
    """The counters whose minute is over (by Redis's clock, or `now` in epoch seconds); they
    stay in Redis until `forget` (a flush that fails half-way loses nothing)."""
    client = get_redis()
    try:
        if now is None:
            seconds, _micro = client.time()
            now = float(seconds)
        current = int(now // 60)
        keys = sorted(k for k in client.smembers(PENDING_KEY) if _minute_of(k) < current)
        if not keys:
            return []
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        hashes = pipe.execute()
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(str(exc)) from exc
    found = []
    for key, fields in zip(keys, hashes, strict=True):
        if not fields.get("count"):
            continue  # expired: nothing left to write (`forget` drops it from the list)
        found.append(
            RefusalCount(
                key=key,
                store_id=int(fields["store"]),
                shipment_id=int(fields["shipment"]),
                reason=fields["reason"],
                ip_address=fields.get("ip") or None,
                count=int(fields["count"]),
                first_at=float(fields["first"]),
                retry_after=int(fields["retry_after"]) if fields.get("retry_after") else None,
            )
        )
    gone = [k for k, fields in zip(keys, hashes, strict=True) if not fields.get("count")]
    if gone:
        forget(gone)
    return found


def forget(keys: list[str]) -> None:
    """Drop counters that are written (or expired)."""
    if not keys:
        return
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.delete(*keys)
        pipe.srem(PENDING_KEY, *keys)
        pipe.execute()
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(str(exc)) from exc
