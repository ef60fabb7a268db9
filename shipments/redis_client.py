"""The Redis connection used for cooldowns, locks, rate limits and token caches."""

from __future__ import annotations

import os
from functools import lru_cache

import redis
from django.conf import settings

RedisError = redis.RedisError


class RedisUnavailable(Exception):
    """Redis (or the broker) does not answer: the edge turns this into 503 + Retry-After."""

    retry_after = 5


@lru_cache(maxsize=8)
def _client(url: str, timeout: float, pid: int) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        decode_responses=True,
    )


def get_redis() -> redis.Redis:
    """A client per process (a forked worker does not share its parent's sockets)."""
    return _client(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT, os.getpid())
