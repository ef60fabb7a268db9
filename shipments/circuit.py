"""A circuit breaker: once a dependency is known to fail, stop calling it for a while.

Django-free and shared by the threads of a process. States:

    closed     calls go through; `failure_threshold` failures in a row open the circuit
    open       every call is refused at once (`CircuitOpen`) for `open_seconds` (plus up to
               `jitter` × `open_seconds`, drawn each time: processes that saw the same outage
               then try again at different moments, so their trials do not stall together)
    half-open  after that, one caller is let through as a trial: its success closes the
               circuit, its failure opens it again for another `open_seconds`; a trial that
               never reports is replaced by another one after `open_seconds`

One line is logged when the circuit opens and one when it closes again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitOpen(redis.ConnectionError):
    """Refused without calling: the dependency failed a moment ago. A `redis.ConnectionError`,
    so every caller that already copes with Redis being down copes with this too."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(
            f"Connection not attempted: {name} failed a moment ago (next try in {retry_in:.1f}s)"
        )
        self.retry_in = retry_in


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 1,
        open_seconds: float = 5.0,
        jitter: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name  # shown in logs and errors: a host and port, never a URL with secrets
        self.failure_threshold = max(1, failure_threshold)
        self.open_seconds = open_seconds
        self.jitter = jitter
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0  # when the current open period started
        self._period = open_seconds  # how long it lasts (with its jitter)
        self._trial_at = 0.0  # when the current half-open trial was let through
        self._first_opened_at = 0.0  # when the outage started (for the "closed" line)
        self.refused = 0  # calls refused without being made, since the process started

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() >= self._opened_at + self._period:
                return HALF_OPEN
            return self._state

    def allow(self) -> None:
        """Return if the call may be made now, else raise `CircuitOpen`."""
        with self._lock:
            if self._state == CLOSED:
                return
            now = self._clock()
            started = self._opened_at if self._state == OPEN else self._trial_at
            if now < started + self._period:
                self.refused += 1
                raise CircuitOpen(self.name, started + self._period - now)
            # The open period is over (or the last trial never reported): this call is the trial.
            self._state = HALF_OPEN
            self._trial_at = now

    def success(self) -> None:
        """The dependency answered."""
        with self._lock:
            self._failures = 0
            if self._state == CLOSED:
                return
            self._state = CLOSED
            outage = self._clock() - self._first_opened_at
        logger.info("circuit closed: %s answers again (after %.1fs)", self.name, outage)

    def failure(self, error: BaseException | None = None) -> None:
        """The dependency failed (a timeout, a connection error)."""
        with self._lock:
            now = self._clock()
            if self._state == HALF_OPEN:  # the trial failed: another open period
                self._open(now)
                return
            if self._state == OPEN:  # a call made before the circuit opened: nothing new
                return
            self._failures += 1
            if self._failures < self.failure_threshold:
                return
            self._open(now)
            self._first_opened_at = now
            failures = self._failures
        reason = type(error).__name__ if error is not None else "failure"
        logger.warning(
            "circuit open: %s failed (%s, %d in a row); calls fail at once for %.1fs, "
            "then one trial call",
            self.name,
            reason,
            failures,
            self.open_seconds,
        )

    def _open(self, now: float) -> None:
        self._state, self._opened_at = OPEN, now
        self._period = self.open_seconds * (1 + random.uniform(0, self.jitter))  # noqa: S311
