"""The Django cache (settings.CACHES) keeps one redis-py client per pool, behind the breaker."""

from __future__ import annotations

import pytest
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


def test_incr_is_one_round_trip_keeps_the_ttl_and_refuses_a_missing_key():
    cache = caches["default"]
    cache.set("resync-test-incr", 1, 60)
    assert cache.incr("resync-test-incr", 4) == 5
    assert cache.get("resync-test-incr") == 5
    client = cache._cache.get_client("k", write=True)
    assert 0 < client.ttl(cache.make_key("resync-test-incr")) <= 60
    cache.delete("resync-test-incr")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("resync-test-incr")
    assert cache.get("resync-test-incr") is None
