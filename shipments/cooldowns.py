"""Resync cooldowns and the "bulk run in progress" lock: atomic Redis scripts, remaining time
from Redis itself. Keys are namespaced by store and always carry a TTL.

    resync:store:{store}:shipment:{shipment}:cooldown   5 min, shared by every single resync
    resync:store:{store}:bulk:cooldown                  1 h between accepted bulk resyncs
    resync:store:{store}:bulk:running                   while a bulk run is in progress
    resync:client:{client}:shopper-resyncs             shopper resyncs from one client (IP)
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

from django.conf import settings
from redis.commands.core import Script

from .redis_client import RedisError, RedisUnavailable, get_redis

# Set the key if absent; else report its remaining time (repairing a key without TTL).
_ACQUIRE_ONE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return ttl
"""

# The same, after counting the request against its client's limit (a fixed window from the
# client's first counted request). KEYS: cooldown, client counter. ARGV: value, cooldown ms,
# client limit, client window ms. Returns {0, cooldown ms} when accepted, {1, ms} cooling down,
# {2, ms} past the client's limit (the cooldown is not touched then).
_ACQUIRE_ONE_COUNTED = """
local count = redis.call('INCR', KEYS[2])
local window = redis.call('PTTL', KEYS[2])
if window < 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  window = tonumber(ARGV[4])
end
if count > tonumber(ARGV[3]) then return {2, window} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, tonumber(ARGV[2])} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {1, ttl}
"""

# KEYS: cooldown, running. ARGV: value, cooldown ms, lock ms, force ('1'|'0').
# Returns {0, cooldown ms} when accepted, {1, ms} cooling down, {2, ms} a run in progress.
_ACQUIRE_BULK = """
if ARGV[4] ~= '1' then
  local cooldown = redis.call('PTTL', KEYS[1])
  if redis.call('EXISTS', KEYS[2]) == 1 then
    if cooldown <= 0 then
      cooldown = redis.call('PTTL', KEYS[2])
      if cooldown > 60000 then cooldown = 60000 end
      if cooldown <= 0 then cooldown = 1000 end
    end
    return {2, cooldown}
  end
  if cooldown > 0 then return {1, cooldown} end
  if cooldown == -1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(ARGV[2])}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {0, tonumber(ARGV[2])}
"""

# KEYS: cooldown, running. ARGV: run id, cooldown ms. Put back a bulk cooldown that Redis lost
# (it restarted empty) and take back the in-progress lock just given to this run.
_RESTORE_BULK = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

# Release the running lock only if it still belongs to this run.
_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

REASON_COOLDOWN = "cooldown"
REASON_IN_PROGRESS = "in_progress"
REASON_RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Gate:
    """The verdict on one request: accepted, or refused with whole seconds to wait (≥ 1)."""

    accepted: bool
    retry_after: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ClientLimit:
    """At most `limit` requests in `window` seconds from one client (`client`: its address, or
    its IPv6 /64, as `resync_site.client_ip.client_key` gives it)."""

    client: str
    limit: int
    window: int


def _seconds(ms: int | float) -> int:
    return max(1, math.ceil(float(ms) / 1000))


def shipment_key(store_id: int, shipment_id: int) -> str:
    return f"resync:store:{store_id}:shipment:{shipment_id}:cooldown"


def bulk_keys(store_id: int) -> tuple[str, str]:
    return (f"resync:store:{store_id}:bulk:cooldown", f"resync:store:{store_id}:bulk:running")


_scripts: dict[str, Script] = {}


def _eval_script(script: str, keys: list[str], args: list[object]) -> object:
    """Run a script by its SHA (EVALSHA; redis-py loads it again after a Redis restart)."""
    client = get_redis()
    if script not in _scripts:
        _scripts[script] = client.register_script(script)
    return _scripts[script](keys=keys, args=args, client=client)


def _eval_or_unavailable(script: str, keys: list[str], args: list[object]) -> object:
    """`_eval_script`, with Redis errors raised as `RedisUnavailable` (→ 503 at the edge)."""
    try:
        return _eval_script(script, keys, args)
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def client_counter_key(client: str) -> str:
    return f"resync:client:{client}:shopper-resyncs"


def acquire_shipment(
    store_id: int, shipment_id: int, *, value: str = "1", client: ClientLimit | None = None
) -> Gate:
    """One accepted single resync per shipment per cooldown, however many arrive at once.

    With `client`, the request is first counted against that client's limit, in the same
    Redis call: past the limit it is refused (`REASON_RATE_LIMITED`) and the cooldown is left
    alone."""
    ms = settings.SHIPMENT_RESYNC_COOLDOWN_SECONDS * 1000
    if client is not None:
        verdict, remaining = _eval_or_unavailable(
            _ACQUIRE_ONE_COUNTED,
            [shipment_key(store_id, shipment_id), client_counter_key(client.client)],
            [value, ms, client.limit, client.window * 1000],
        )
        if int(verdict) == 0:
            return Gate(True, _seconds(ms))
        reason = REASON_COOLDOWN if int(verdict) == 1 else REASON_RATE_LIMITED
        return Gate(False, _seconds(remaining), reason)
    remaining = int(
        _eval_or_unavailable(_ACQUIRE_ONE, [shipment_key(store_id, shipment_id)], [value, ms])
    )
    if remaining == 0:
        return Gate(True, _seconds(ms))
    return Gate(False, _seconds(remaining), REASON_COOLDOWN)


def acquire_bulk(store_id: int, *, run_id: int, force: bool = False) -> Gate:
    """Start the store's bulk cooldown and the in-progress lock (naming `run_id`), unless either
    is already on; `force` (ops, command line) starts them regardless."""
    cooldown_ms = settings.STORE_BULK_RESYNC_COOLDOWN_SECONDS * 1000
    lock_ms = max(settings.SYNC_RUN_LOCK_SECONDS * 1000, cooldown_ms)
    verdict, ms = _eval_or_unavailable(
        _ACQUIRE_BULK,
        list(bulk_keys(store_id)),
        [str(run_id), cooldown_ms, lock_ms, "1" if force else "0"],
    )
    if int(verdict) == 0:
        return Gate(True, _seconds(ms))
    reason = REASON_COOLDOWN if int(verdict) == 1 else REASON_IN_PROGRESS
    return Gate(False, _seconds(ms), reason)


def restore_bulk(store_id: int, *, run_id: int, seconds: float) -> Gate:
    """`acquire_bulk` just accepted `run_id`, but the store's bulk cooldown should still run for
    `seconds` (Redis lost it): set the cooldown again for that long, drop the run's in-progress
    lock, and return the refusal."""
    ms = max(1000, math.ceil(seconds * 1000))
    _eval_or_unavailable(_RESTORE_BULK, list(bulk_keys(store_id)), [str(run_id), ms])
    return Gate(False, _seconds(ms), REASON_COOLDOWN)


def release_bulk_run(store_id: int, run_id: int) -> None:
    """The run finished: lift the in-progress lock (the hour-long cooldown stays)."""
    # Without Redis the lock simply lapses at its TTL.
    with contextlib.suppress(RedisError):
        _eval_script(_RELEASE_IF_OWNER, [bulk_keys(store_id)[1]], [str(run_id)])


def shipment_retry_after(store_id: int, shipment_id: int) -> int:
    """Seconds until the shipment may be resynced again (0 = now)."""
    try:
        ms = get_redis().pttl(shipment_key(store_id, shipment_id))
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    return _seconds(ms) if ms > 0 else 0


def bulk_retry_after(store_id: int) -> int:
    """Seconds until the store may start another bulk resync (0 = now)."""
    cooldown, running = bulk_keys(store_id)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.pttl(cooldown)
        pipe.pttl(running)
        cooldown_ms, running_ms = pipe.execute()
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    if cooldown_ms > 0:
        return _seconds(cooldown_ms)
    if running_ms > 0:
        return _seconds(min(running_ms, 60000))
    return 0


def clear_shipment(store_id: int, shipment_id: int) -> bool:
    try:
        return bool(get_redis().delete(shipment_key(store_id, shipment_id)))
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def clear_bulk(store_id: int) -> bool:
    """Clear the store's bulk cooldown (the in-progress lock stays while a run is active)."""
    try:
        return bool(get_redis().delete(bulk_keys(store_id)[0]))
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
