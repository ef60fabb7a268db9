"""The Redis connection used for cooldowns, locks, rate limits and token caches.

Every connection the app opens to Redis (this client, the Django cache that django-ratelimit
counts in, and the broker publishes of `services.enqueue`) goes through one circuit breaker per
Redis server and process (`shipments.circuit`): after a timeout or a failed connect, calls fail
at once with `CircuitOpen` (a `redis.ConnectionError`) for `REDIS_BREAKER_OPEN_SECONDS`, so a
hung Redis costs one socket timeout, not one per request; then one trial call decides.
"""

from __future__ import annotations

import os
import threading
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from .circuit import CircuitBreaker, CircuitOpen

RedisError = redis.RedisError
__all__ = ["CircuitOpen", "RedisError", "RedisUnavailable", "breaker_for", "get_redis"]

# One quick retry (a pooled connection that Redis closed is replaced at once); redis-py's own
# default is ten retries with backoff, which turns one socket timeout into several seconds.
RETRY = Retry(NoBackoff(), 1)


class RedisUnavailable(Exception):
    """Redis (or the broker) does not answer: the edge turns this into 503 + Retry-After."""

    retry_after = 5


# --- The breakers, one per Redis server -----------------------------------------------------------

_breakers: dict[tuple[int, str], CircuitBreaker] = {}  # by process (a fork starts afresh)
_breakers_lock = threading.Lock()
OPEN_JITTER = 0.2  # each open period lasts 1 to 1.2 × REDIS_BREAKER_OPEN_SECONDS


def breaker_for(server: str) -> CircuitBreaker:
    """The process's breaker for `server` ("host:port" or a socket path)."""
    key = (os.getpid(), server)
    with _breakers_lock:
        breaker = _breakers.get(key)
        if breaker is None:
            breaker = _breakers[key] = CircuitBreaker(
                f"redis {server}",
                failure_threshold=settings.REDIS_BREAKER_FAILURES,
                open_seconds=settings.REDIS_BREAKER_OPEN_SECONDS,
                jitter=OPEN_JITTER,
            )
        return breaker


def breaker_for_url(url: str) -> CircuitBreaker:
    """The breaker of the server a redis:// (rediss://, unix://) URL names; no credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return breaker_for(parts.path)
    return breaker_for(f"{parts.hostname or 'localhost'}:{parts.port or 6379}")


def reset_breakers() -> None:
    """Forget every breaker (tests; settings changed)."""
    with _breakers_lock:
        _breakers.clear()


# --- Connections that ask the breaker -------------------------------------------------------------

_TIMEOUTS = (redis.TimeoutError, TimeoutError)
# A connect that fails this fast (refused: Redis is down or restarting) costs nothing and opens
# nothing, so a restarted Redis is used at once; a slower one (a timeout, a slow DNS) counts.
SLOW_CONNECT_FAILURE = 0.05
_FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)


class _Guarded:
    """Mixed into a redis-py connection class. A call (connect, or send a command) is refused
    at once while the breaker is open; a timeout anywhere, or a connect that failed slowly,
    counts as a failure; any reply (an error reply too) counts as a success. Errors that cost no
    time (a refused connect; a socket that a restarted Redis closed, replaced by the retry) open
    nothing."""

    _depth = 0  # > 0 inside one of our calls: its handshake and health check are part of it

    def _breaker(self) -> CircuitBreaker:
        path = getattr(self, "path", "")
        return breaker_for(path or f"{self.host}:{self.port}")

    def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True):
        if self._sock or self._depth:
            return super().connect_check_health(check_health, retry_socket_connect)
        breaker = self._breaker()
        breaker.allow()
        self._depth += 1
        started = time.monotonic()
        try:
            super().connect_check_health(check_health, retry_socket_connect)
        except _FAILURES as exc:
            slow = time.monotonic() - started >= SLOW_CONNECT_FAILURE
            if isinstance(exc, _TIMEOUTS) or (slow and not isinstance(exc, CircuitOpen)):
                breaker.failure(exc)
            raise
        finally:
            self._depth -= 1
        breaker.success()
        return None

    def send_packed_command(self, command, check_health: bool = True) -> None:
        if self._depth:
            return super().send_packed_command(command, check_health)
        breaker = self._breaker()
        breaker.allow()
        self._depth += 1
        try:
            super().send_packed_command(command, check_health)
        except _TIMEOUTS as exc:
            breaker.failure(exc)
            raise
        finally:
            self._depth -= 1

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except redis.ResponseError:
            self._breaker().success()
            raise
        except _TIMEOUTS as exc:
            self._breaker().failure(exc)
            raise
        self._breaker().success()
        return response


class GuardedConnection(_Guarded, redis.Connection):
    pass


class GuardedSSLConnection(_Guarded, redis.SSLConnection):
    pass


class GuardedUnixConnection(_Guarded, redis.UnixDomainSocketConnection):
    pass


_GUARDED = {
    redis.Connection: GuardedConnection,
    redis.SSLConnection: GuardedSSLConnection,
    redis.UnixDomainSocketConnection: GuardedUnixConnection,
}


class GuardedConnectionPool(redis.ConnectionPool):
    """A pool of guarded connections with one quick retry; also the Django cache's
    `pool_class` (settings.CACHES)."""

    def __init__(self, connection_class=redis.Connection, **kwargs) -> None:
        kwargs.setdefault("retry", RETRY)
        super().__init__(_GUARDED.get(connection_class, connection_class), **kwargs)


@lru_cache(maxsize=8)
def _client(url: str, timeout: float, pid: int) -> redis.Redis:
    pool = GuardedConnectionPool.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        decode_responses=True,
    )
    return redis.Redis(connection_pool=pool)


def get_redis() -> redis.Redis:
    """A client per process (a forked worker does not share its parent's sockets)."""
    return _client(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT, os.getpid())


def broker_client() -> redis.Redis:
    """The broker's Redis with our short timeouts (for a PING, never for messages)."""
    return _client(settings.CELERY_BROKER_URL, settings.REDIS_SOCKET_TIMEOUT, os.getpid())


# --- The Django cache ---------------------------------------------------------------------------


# INCRBY a key only if it exists (its TTL kept), in one round trip; nil when it does not.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class _ReusedClientCacheClient(RedisCacheClient):
    """Django's Redis cache client, except that it keeps one `redis.Redis` per pool (Django's
    builds a new one for every operation, and redis-py's constructor fills a table of ~170
    response callbacks each time: three times per shopper resync, ~0.3 ms of CPU) and that
    `incr` is one atomic round trip instead of EXISTS then INCRBY (the rate limits' counters)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        value = client.eval(_INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with one client per pool (settings.CACHES)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClientCacheClient
