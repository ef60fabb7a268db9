"""The Django cache (settings.CACHES) keeps one redis-py client per pool, behind the breaker."""

from __future__ import annotations

from django.core.cache import caches

from shipments.redis_client import GuardedConnectionPool, RedisCache


def test_the_cache_reuses_one_client_and_still_works():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    client = cache._cache.get_client("k", write=True)
    assert cache._cache.get_client("k", write=True) is client
    assert isinstance(client.connection_pool, GuardedConnectionPool)
    cache.set("resync-test-cache-client", 41, 10)
    assert cache.incr("resync-test-cache-client") == 42
    assert cache.add("resync-test-cache-client", 1, 10) is False
    cache.delete("resync-test-cache-client")
