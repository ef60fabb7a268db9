from __future__ import annotations

import threading
import time

import pytest
from django.test import override_settings

from shipments import cooldowns
from shipments.redis_client import RedisUnavailable, _client, get_redis


def _hammer(n: int, func) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        results[i] = func()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_single_resync_wins_however_many_arrive_at_once():
    gates = _hammer(100, lambda: cooldowns.acquire_shipment(1, 42))
    assert sum(g.accepted for g in gates) == 1
    refused = [g for g in gates if not g.accepted]
    assert all(g.reason == "cooldown" and 299 <= g.retry_after <= 300 for g in refused)


def test_remaining_time_comes_from_redis_and_is_rounded_up(settings):
    settings.SHIPMENT_RESYNC_COOLDOWN_SECONDS = 2
    assert cooldowns.acquire_shipment(1, 7).accepted
    get_redis().pexpire(cooldowns.shipment_key(1, 7), 1200)
    refused = cooldowns.acquire_shipment(1, 7)
    assert (refused.accepted, refused.retry_after) == (False, 2)
    assert cooldowns.shipment_retry_after(1, 7) == 2
    get_redis().pexpire(cooldowns.shipment_key(1, 7), 5)
    time.sleep(0.05)
    assert cooldowns.shipment_retry_after(1, 7) == 0
    assert cooldowns.acquire_shipment(1, 7).accepted


def test_keys_are_namespaced_by_store_and_always_expire():
    cooldowns.acquire_shipment(3, 9)
    cooldowns.acquire_bulk(3, run_id=11)
    keys = sorted(get_redis().scan_iter("resync:store:3:*"))
    assert keys == [
        "resync:store:3:bulk:cooldown",
        "resync:store:3:bulk:running",
        "resync:store:3:shipment:9:cooldown",
    ]
    assert all(get_redis().pttl(k) > 0 for k in keys)
    # Another store's shipment with the same id is its own key.
    assert cooldowns.acquire_shipment(4, 9).accepted


def test_a_key_that_lost_its_ttl_is_repaired_not_held_forever():
    key = cooldowns.shipment_key(1, 5)
    get_redis().set(key, "1")  # no TTL, as if written by hand
    gate = cooldowns.acquire_shipment(1, 5)
    assert not gate.accepted
    assert 0 < get_redis().pttl(key) <= 300_000


def test_bulk_cooldown_and_in_progress_lock():
    gates = _hammer(50, lambda: cooldowns.acquire_bulk(1, run_id=1))
    assert sum(g.accepted for g in gates) == 1
    assert {g.reason for g in gates if not g.accepted} == {"in_progress"}
    # Another store is not affected.
    assert cooldowns.acquire_bulk(2, run_id=2).accepted
    # The run finishes: the lock goes, the hour-long cooldown stays.
    cooldowns.release_bulk_run(1, run_id=99)  # not the owner: nothing happens
    assert cooldowns.acquire_bulk(1, run_id=3).reason == "in_progress"
    cooldowns.release_bulk_run(1, run_id=1)
    gate = cooldowns.acquire_bulk(1, run_id=3)
    assert (gate.accepted, gate.reason) == (False, "cooldown")
    assert 3590 <= gate.retry_after <= 3600
    assert cooldowns.bulk_retry_after(1) == gate.retry_after
    # Forced (ops / --force) goes through and takes the lock.
    assert cooldowns.acquire_bulk(1, run_id=4, force=True).accepted


def test_redis_down_is_a_quick_clear_error():
    _client.cache_clear()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        started = time.monotonic()
        with pytest.raises(RedisUnavailable):
            cooldowns.acquire_shipment(1, 1)
        with pytest.raises(RedisUnavailable):
            cooldowns.acquire_bulk(1, run_id=1)
        assert time.monotonic() - started < 1.0
    _client.cache_clear()


# --- A shopper's resync: the client's limit counted in the same call --------------------------


def test_a_client_past_its_limit_is_refused_whatever_shipment_it_names():
    client = cooldowns.ClientLimit("203.0.113.7", limit=30, window=3600)
    gates = _hammer(50, lambda: cooldowns.acquire_shipment(1, 1000 + _next_id(), client=client))
    assert sum(g.accepted for g in gates) == 30
    refused = [g for g in gates if not g.accepted]
    assert {g.reason for g in refused} == {cooldowns.REASON_RATE_LIMITED}
    assert all(3590 <= g.retry_after <= 3600 for g in refused)
    # The refused ones did not start a cooldown: those shipments may still resync.
    assert len(list(get_redis().scan_iter("resync:store:1:shipment:*"))) == 30
    # Another client has its own budget.
    other = cooldowns.ClientLimit("198.51.100.1", limit=30, window=3600)
    assert cooldowns.acquire_shipment(1, 5000, client=other).accepted


_ids = iter(range(1_000_000))
_ids_lock = threading.Lock()


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


def test_under_its_limit_a_client_meets_the_shared_cooldown_as_anyone():
    client = cooldowns.ClientLimit("203.0.113.8", limit=30, window=3600)
    assert cooldowns.acquire_shipment(2, 7).accepted  # a merchant just resynced it
    gate = cooldowns.acquire_shipment(2, 7, client=client)
    assert (gate.accepted, gate.reason) == (False, cooldowns.REASON_COOLDOWN)
    assert 299 <= gate.retry_after <= 300
    # The refused click still counted against the client.
    assert int(get_redis().get(cooldowns.client_counter_key("203.0.113.8"))) == 1


def test_the_client_window_starts_with_its_first_request_and_always_expires(settings):
    client = cooldowns.ClientLimit("203.0.113.9", limit=1, window=2)
    assert cooldowns.acquire_shipment(3, 1, client=client).accepted
    refused = cooldowns.acquire_shipment(3, 2, client=client)
    assert (refused.accepted, refused.reason, refused.retry_after) == (False, "rate_limited", 2)
    key = cooldowns.client_counter_key("203.0.113.9")
    get_redis().persist(key)  # lost its TTL somehow: repaired on the next request
    cooldowns.acquire_shipment(3, 2, client=client)
    assert 0 < get_redis().pttl(key) <= 2000
    get_redis().pexpire(key, 5)
    time.sleep(0.05)
    assert cooldowns.acquire_shipment(3, 2, client=client).accepted
