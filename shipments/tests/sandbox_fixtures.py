"""Pytest fixtures that run the carrier sandbox as a subprocess (loaded by the root conftest).

    def test_x(sandbox):                 # reset before the test
        sandbox.url                      # http://127.0.0.1:<port>
        sandbox.add_event("1Z…", status="delivered", location="Chicago, IL, US")
        sandbox.fault("1Z…", "rate_limit", retry_after="7", times=1)
        sandbox.carrier_fault("ups", "fail")
        sandbox.stats()["token_requests"]

`carrier_sandbox` is the session-wide server (not reset); `sandbox` resets it first. The process
and its client are the harness's (harness/sandbox.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness import sandbox

START_TIMEOUT = 10.0


class SandboxProcess(sandbox.SandboxProcess):
    """The harness's sandbox process, with the test settings unless told otherwise."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("env", {**os.environ, "DJANGO_SETTINGS_MODULE": "resync_site.settings_test"})
        kw.setdefault("ready_timeout", START_TIMEOUT)
        super().__init__(**kw)


@pytest.fixture(scope="session")
def carrier_sandbox() -> Iterator[SandboxProcess]:
    process = SandboxProcess().start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def sandbox(carrier_sandbox: SandboxProcess) -> SandboxProcess:
    carrier_sandbox.reset()
    return carrier_sandbox
