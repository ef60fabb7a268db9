"""The circuit breaker's states, on a clock the test moves (shipments/circuit.py)."""

from __future__ import annotations

import logging
import threading

import pytest

from shipments.circuit import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpen
from shipments.redis_client import breaker_for_url, reset_breakers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, **kw) -> CircuitBreaker:
    return CircuitBreaker("redis test:1", clock=clock, open_seconds=5.0, **kw)


def test_closed_lets_calls_through_and_a_success_keeps_it_closed(clock):
    b = breaker(clock)
    for _ in range(3):
        b.allow()
        b.success()
    assert b.state == CLOSED
    assert b.refused == 0


def test_one_failure_opens_and_calls_are_refused_for_the_open_period(clock):
    b = breaker(clock)
    b.allow()
    b.failure(TimeoutError("read timed out"))
    assert b.state == OPEN
    clock.now += 4.9
    with pytest.raises(CircuitOpen) as refused:
        b.allow()
    assert refused.value.retry_in == pytest.approx(0.1)
    assert b.refused == 1


def test_a_threshold_counts_failures_in_a_row_only(clock):
    b = breaker(clock, failure_threshold=3)
    b.failure()
    b.failure()
    b.success()  # the streak is broken
    b.failure()
    b.failure()
    assert b.state == CLOSED
    b.failure()
    assert b.state == OPEN


def test_after_the_open_period_one_trial_goes_through_and_its_success_closes(clock):
    b = breaker(clock)
    b.failure()
    clock.now += 5.0
    assert b.state == HALF_OPEN
    b.allow()  # the trial
    with pytest.raises(CircuitOpen):
        b.allow()  # anyone else while the trial is out
    b.success()
    assert b.state == CLOSED
    b.allow()


def test_a_failed_trial_opens_another_full_period(clock):
    b = breaker(clock)
    b.failure()
    clock.now += 5.0
    b.allow()
    b.failure()
    assert b.state == OPEN
    clock.now += 4.0
    with pytest.raises(CircuitOpen):
        b.allow()
    clock.now += 1.0
    b.allow()  # the next trial
    b.success()
    assert b.state == CLOSED


def test_a_trial_that_never_reports_is_replaced_after_the_open_period(clock):
    b = breaker(clock)
    b.failure()
    clock.now += 5.0
    b.allow()  # this trial's caller vanished without a word
    clock.now += 5.0
    b.allow()  # another trial
    b.success()
    assert b.state == CLOSED


def test_jitter_lengthens_each_open_period_by_a_random_share(clock):
    b = breaker(clock, jitter=0.5)
    periods = set()
    for _ in range(20):
        b.failure()
        opened = clock.now
        while True:
            clock.now += 0.25
            try:
                b.allow()
            except CircuitOpen:
                continue
            break
        periods.add(clock.now - opened)
        b.success()
    assert min(periods) >= 5.0
    assert max(periods) <= 7.5 + 0.25
    assert len(periods) > 1


def test_a_late_failure_of_a_call_made_before_opening_does_not_extend_the_period(clock):
    b = breaker(clock)
    b.failure()
    clock.now += 3.0
    b.failure()  # started before the circuit opened, timed out now
    clock.now += 2.0
    b.allow()  # the period still ends 5 s after the first failure


def test_one_line_when_it_opens_and_one_when_it_closes(clock, caplog):
    b = breaker(clock)
    with caplog.at_level(logging.INFO, logger="shipments.circuit"):
        b.failure(TimeoutError())
        for _ in range(5):
            with pytest.raises(CircuitOpen):
                b.allow()
        clock.now += 5.0
        b.allow()
        b.failure()  # the trial fails: no new line
        clock.now += 5.0
        b.allow()
        b.success()
        b.success()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("circuit open: redis test:1 failed (TimeoutError, 1 in a row)")
    assert lines[1] == "circuit closed: redis test:1 answers again (after 10.0s)"


def test_only_one_of_many_threads_is_the_trial(clock):
    b = breaker(clock)
    b.failure()
    clock.now += 5.0
    allowed: list[int] = []
    start = threading.Barrier(16)

    def call(i: int) -> None:
        start.wait()
        try:
            b.allow()
        except CircuitOpen:
            return
        allowed.append(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 1
    assert b.refused == 15


def test_a_refusal_is_a_redis_connection_error_that_names_no_credentials(settings):
    import redis

    reset_breakers()
    b = breaker_for_url("redis://user:s3cret@cache.internal:6380/2")
    assert b.name == "redis cache.internal:6380"
    assert breaker_for_url("redis://cache.internal:6380/5") is b  # one per server, not per db
    assert b.open_seconds == settings.REDIS_BREAKER_OPEN_SECONDS
    b.failure()
    with pytest.raises(redis.ConnectionError) as refused:
        b.allow()
    assert "s3cret" not in str(refused.value)
    reset_breakers()
