"""Pytest fixtures that run the carrier sandbox as a subprocess (loaded by the root conftest).

    def test_x(sandbox):                 # reset before the test
        sandbox.url                      # http://127.0.0.1:<port>
        sandbox.add_event("1Z…", status="delivered", location="Chicago, IL, US")
        sandbox.fault("1Z…", "rate_limit", retry_after="7", times=1)
        sandbox.carrier_fault("ups", "fail")
        sandbox.stats()["token_requests"]

`carrier_sandbox` is the session-wide server (not reset); `sandbox` resets it first.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """A `manage.py carrier_sandbox` subprocess and a small client for its control API."""

    def __init__(
        self,
        *,
        port: int | None = None,
        latency_ms: int = 0,
        epoch: dt.datetime | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.latency_ms = latency_ms
        # The current UTC hour, like a fresh var/sandbox-epoch, without touching that file.
        self.epoch = epoch or dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        self.session = requests.Session()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept for the process lifetime

    # --- Life cycle ---------------------------------------------------------------------------

    def start(self) -> SandboxProcess:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "resync_site.settings_test"}
        command = [
            sys.executable,
            "manage.py",
            "carrier_sandbox",
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
            "--epoch",
            self.epoch.isoformat(),
        ]
        self._process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if self.session.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"carrier sandbox did not start on {self.url}:\n{self.output()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.session.close()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    # --- Control API --------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def add_event(self, number: str, **fields: Any) -> dict[str, Any]:
        """Add an event occurring now (fields: status, description, location)."""
        return self._control("POST", f"/numbers/{quote(number, safe='')}/events", fields)

    def fault(self, number: str, kind: str, **kw: Any) -> dict[str, Any]:
        """kind: fail | hang | rate_limit | unknown | none; kw: retry_after, times, seconds."""
        return self._control(
            "POST", f"/numbers/{quote(number, safe='')}/fault", {"kind": kind, **kw}
        )

    def carrier_fault(self, carrier: str, kind: str, **kw: Any) -> dict[str, Any]:
        return self._control("POST", f"/carriers/{carrier}/fault", {"kind": kind, **kw})

    def forget(self, number: str) -> dict[str, Any]:
        return self._control("DELETE", f"/numbers/{quote(number, safe='')}")

    def reset(self) -> None:
        self._control("POST", "/reset")

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "/stats")

    def track(self, *numbers: str) -> dict[str, Any]:
        """The native endpoint's answer for these numbers."""
        response = self.session.get(
            f"{self.url}/sandbox/v1/track", params={"numbers": ",".join(numbers)}, timeout=10
        )
        response.raise_for_status()
        return response.json()


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
