"""Polling until something is true, and the harness's own errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class HarnessError(RuntimeError):
    """A process did not start, exited early, or a wait ran out."""


class WaitTimeout(HarnessError):
    """`wait_until` ran out of time."""


def wait_until(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    what: str = "the condition",
    interval: float = 0.2,
) -> Any:
    """Poll `predicate` until it is truthy (returned) or `timeout` seconds pass (WaitTimeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
