"""A hung Redis (SIGSTOP on a redis-server of the test's own) costs one socket timeout, then the
circuit breaker answers at once until one trial call finds Redis back (issue #13, item 8)."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator

import pytest
import redis.connection
from django.core.cache import cache

from harness import services
from harness.ports import free_port
from harness.processes import Process
from shipments import cooldowns
from shipments.circuit import CLOSED, OPEN
from shipments.redis_client import (
    OPEN_JITTER,
    RedisUnavailable,
    _client,
    breaker_for_url,
    get_redis,
    reset_breakers,
)
from shipments.services import enqueue
from tracking.selectors import shipment_wait

from .fixtures import make_shipment

pytestmark = pytest.mark.django_db

TIMEOUT = 0.3
OPEN_SECONDS = 4.0  # long enough for the checks on a busy machine


@pytest.fixture
def own_redis(tmp_path, settings) -> Iterator[Process]:
    """A redis-server on a free port, used as cooldown store, cache and broker."""
    port = free_port()
    server = services.redis_server(port, tmp_path, log=tmp_path / "redis.log")
    server.start()
    url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.REDIS_SOCKET_TIMEOUT = TIMEOUT
    settings.REDIS_BREAKER_OPEN_SECONDS = OPEN_SECONDS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "pool_class": "shipments.redis_client.GuardedConnectionPool",
                "socket_connect_timeout": TIMEOUT,
                "socket_timeout": TIMEOUT,
            },
        }
    }
    _client.cache_clear()
    reset_breakers()
    try:
        yield server
    finally:
        server.signal_group(signal.SIGCONT)
        server.stop()
        _client.cache_clear()
        reset_breakers()


@contextlib.contextmanager
def frozen(server: Process) -> Iterator[None]:
    server.signal_group(signal.SIGSTOP)
    try:
        yield
    finally:
        server.signal_group(signal.SIGCONT)


@pytest.fixture
def socket_calls(monkeypatch) -> list[str]:
    """Every connect and command send that reaches redis-py's socket code."""
    calls: list[str] = []
    base = redis.connection.AbstractConnection
    connect, send = base.connect_check_health, base.send_packed_command

    def counted_connect(self, *args, **kwargs):
        calls.append("connect")
        return connect(self, *args, **kwargs)

    def counted_send(self, *args, **kwargs):
        calls.append("send")
        return send(self, *args, **kwargs)

    monkeypatch.setattr(base, "connect_check_health", counted_connect)
    monkeypatch.setattr(base, "send_packed_command", counted_send)
    return calls


def timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_after_one_timeout_the_page_path_skips_redis_until_the_open_period_ends(
    own_redis, store, socket_calls
):
    shipment = make_shipment(store)
    cooldowns.acquire_shipment(store.pk, shipment.pk)
    assert shipment_wait(shipment) > 0  # Redis answers: the countdown is shown
    breaker = breaker_for_url(own_redis_url())
    with frozen(own_redis):
        first = timed(lambda: shipment_wait(shipment))
        assert breaker.state == OPEN
        socket_calls.clear()
        refused = breaker.refused
        waits: list[int] = []
        took = timed(lambda: waits.extend(shipment_wait(shipment) for _ in range(10)))
    assert TIMEOUT * 0.8 < first < 2 * TIMEOUT + 0.3  # one socket timeout, no retry storm
    assert waits == [0] * 10  # no countdown while Redis is unknown: the page still renders
    assert socket_calls == []  # nothing reached a socket
    assert breaker.refused >= refused + 10
    assert took < 0.5


def test_the_tracking_page_renders_at_once_while_redis_hangs(own_redis, store, client):
    shipment = make_shipment(store)
    get_redis().ping()
    with frozen(own_redis):
        client.get(shipment.get_tracking_url())  # pays the one timeout
        statuses: list[int] = []
        took = timed(
            lambda: statuses.extend(
                client.get(shipment.get_tracking_url()).status_code for _ in range(10)
            )
        )
    assert statuses == [200] * 10
    assert took < 10 * TIMEOUT  # each page well under one socket timeout


def test_a_resync_answers_503_with_retry_after_at_once(own_redis, store, client, socket_calls):
    shipment = make_shipment(store)
    url = f"{shipment.get_tracking_url()}resync/"
    cache.get("warm-up")
    get_redis().ping()
    with frozen(own_redis):
        first = client.post(url, HTTP_ACCEPT="application/json")
        socket_calls.clear()
        answers = []
        for _ in range(5):
            started = time.monotonic()
            response = client.post(url, HTTP_ACCEPT="application/json")
            answers.append(
                (response.status_code, response["Retry-After"], time.monotonic() - started)
            )
    assert first.status_code == 503
    assert [(status, retry) for status, retry, _ in answers] == [(503, "5")] * 5
    assert max(took for *_, took in answers) < TIMEOUT / 2
    assert socket_calls == []


def test_a_publish_is_refused_at_once_while_the_broker_server_is_known_down(
    own_redis, store, monkeypatch
):
    shipment = make_shipment(store)
    get_redis().ping()
    sent: list[str] = []
    monkeypatch.setattr(enqueue.current_app, "send_task", lambda name, **kw: sent.append(name))
    with frozen(own_redis):
        shipment_wait(shipment)  # the page found Redis (also the broker) hung
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="broker unavailable"):
            enqueue.resync_job("00000000-0000-0000-0000-000000000000")
    assert time.monotonic() - started < 0.1
    assert sent == []


def test_after_sigcont_the_breaker_closes_by_itself_with_the_first_call_after_the_period(
    own_redis, store, socket_calls
):
    shipment = make_shipment(store)
    cooldowns.acquire_shipment(store.pk, shipment.pk)
    breaker = breaker_for_url(own_redis_url())
    with frozen(own_redis):
        shipment_wait(shipment)
        opened = time.monotonic()
    assert breaker.state == OPEN  # Redis is back, but nobody has asked yet
    socket_calls.clear()
    assert shipment_wait(shipment) == 0  # still within the open period: not asked
    assert socket_calls == []
    period = OPEN_SECONDS * (1 + OPEN_JITTER)  # the longest the open period can be
    time.sleep(max(0.0, opened + period - time.monotonic()) + 0.05)
    assert shipment_wait(shipment) > 0  # the one trial call: the real countdown again
    assert breaker.state == CLOSED
    assert shipment_wait(shipment) > 0


def own_redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


def test_a_refused_connection_opens_nothing_so_a_restarted_redis_is_used_at_once(settings, store):
    """Redis down (connection refused) fails in microseconds: no open period to wait out once
    it is back (drills/redis_restarted.py: no 503 later than 5 s after the restart)."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    _client.cache_clear()
    shipment = make_shipment(store)
    try:
        assert shipment_wait(shipment) == 0
        assert breaker_for_url(settings.REDIS_URL).state == CLOSED
    finally:
        _client.cache_clear()


def test_a_broker_publish_that_fails_opens_the_breaker_of_its_server(settings, monkeypatch):
    from kombu.exceptions import OperationalError

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6399/3"
    sent: list[str] = []

    def unanswered(name, **kw):
        sent.append(name)
        raise OperationalError("timed out")

    monkeypatch.setattr(enqueue.current_app, "send_task", unanswered)
    for _ in range(3):
        with pytest.raises(RedisUnavailable, match="broker unavailable"):
            enqueue.run_dispatch(1)
    assert sent == [enqueue.SYNC_RUN_DISPATCH]  # asked once, then refused at once
    assert breaker_for_url("redis://127.0.0.1:6399/0").state == OPEN


def test_after_the_open_period_the_broker_trial_is_a_quick_ping_not_a_slow_publish(
    own_redis, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr(enqueue.current_app, "send_task", lambda name, **kw: sent.append(name))
    breaker = breaker_for_url(own_redis_url())
    with frozen(own_redis):
        breaker.failure(TimeoutError("publish timed out"))  # what a hung publish ends with
        time.sleep(OPEN_SECONDS * (1 + OPEN_JITTER) + 0.05)
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="broker unavailable"):
            enqueue.run_dispatch(1)
        took = time.monotonic() - started
    assert took < 2 * TIMEOUT + 0.3  # kombu would take ~6 s against a hung broker
    assert sent == []
    assert breaker.state == OPEN
    time.sleep(OPEN_SECONDS * (1 + OPEN_JITTER) + 0.05)
    enqueue.run_dispatch(1)  # Redis is back: the PING closes the breaker, the task goes
    assert sent == [enqueue.SYNC_RUN_DISPATCH]
    assert breaker.state == CLOSED
