"""The merchant API's per-key request rate limit: at most `API_RATE_LIMIT_PER_SECOND` requests
in any one second (a sliding window), counted atomically in Redis by one Lua script.

    resync:api:key:{key id}:rate   a sorted set of the last second's accepted requests

Refused requests are not counted, so a client that backs off for `Retry-After` gets through.
Without Redis the limit is not enforced (the API stays readable; resyncs answer 503 anyway).
"""

from __future__ import annotations

import logging
import math
import secrets

from django.conf import settings
from redis.commands.core import Script

from shipments.redis_client import RedisError, get_redis

logger = logging.getLogger("connect.api")

WINDOW_MS = 1000

# KEYS: the key's log. ARGV: limit, window ms, a unique member.
# Returns 0 when accepted, else the microseconds until the oldest request leaves the window.
_SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window_us = tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_us, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window_us - now_us
if wait < 1 then wait = 1 end
return wait
"""

_scripts: list[Script] = []


def rate_key(key_id: int) -> str:
    return f"resync:api:key:{key_id}:rate"


def retry_after_for(key_id: int) -> int:
    """0 when the key may make this request (and it is counted), else whole seconds to wait."""
    limit = int(settings.API_RATE_LIMIT_PER_SECOND)
    if limit <= 0:
        return 0
    client = get_redis()
    try:
        if not _scripts:
            _scripts.append(client.register_script(_SLIDING_WINDOW))
        script = _scripts[0]
        wait_us = int(
            script(
                keys=[rate_key(key_id)],
                args=[limit, WINDOW_MS, secrets.token_hex(8)],
                client=client,
            )
        )
    except RedisError:
        logger.warning("api rate limit not checked: Redis unavailable")
        return 0
    return max(1, math.ceil(wait_us / 1_000_000)) if wait_us > 0 else 0
