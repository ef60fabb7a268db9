"""The carrier sandbox (`manage.py carrier_sandbox`) as a subprocess, and its control API.

    sandbox = SandboxProcess(latency_ms=50).start()      # a free port, the current UTC hour
    sandbox.add_event("1Z…", status="delivered", location="Chicago, IL, US")
    sandbox.fault("1Z…", "rate_limit", retry_after="7", times=1)
    sandbox.carrier_fault("ups", "fail")
    sandbox.stats()["token_requests"]
    sandbox.stop()

`SandboxClient(url)` is the control API alone, for a sandbox started elsewhere.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from harness.ports import free_port, local_url
from harness.processes import PYTHON, Process, http_ok

Timeout = float | tuple[float, float]


def current_hour() -> dt.datetime:
    """The current UTC hour: the epoch of a fresh `var/sandbox-epoch`, without touching it."""
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def sandbox_argv(port: int, latency_ms: int, epoch: dt.datetime) -> list[str]:
    return [
        PYTHON, "manage.py", "carrier_sandbox",
        "--port", str(port),
        "--latency-ms", str(latency_ms),
        "--epoch", epoch.isoformat(),
    ]  # fmt: skip


class SandboxClient:
    """Client of `/_sandbox/...` (carrier_sandbox/control.py) and of the native endpoint."""

    def __init__(self, url: str, *, timeout: Timeout = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method, f"{self.url}/_sandbox{path}", json=body, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()

    def healthy(self) -> bool:
        return self.session.get(f"{self.url}/_sandbox/health", timeout=1).ok

    def add_event(self, number: str, **fields: Any) -> dict[str, Any]:
        """Add an event occurring now (fields: status, description, location)."""
        return self._control("POST", f"/numbers/{quote(number, safe='')}/events", fields)

    def fault(self, number: str, kind: str, **kw: Any) -> dict[str, Any]:
        """kind: fail | hang | rate_limit | unknown | none; kw: retry_after, times, seconds."""
        path = f"/numbers/{quote(number, safe='')}/fault"
        return self._control("POST", path, {"kind": kind, **kw})

    def carrier_fault(self, carrier: str, kind: str, **kw: Any) -> dict[str, Any]:
        return self._control("POST", f"/carriers/{carrier}/fault", {"kind": kind, **kw})

    def faults(self) -> dict[str, Any]:
        return self._control("GET", "/faults")

    def forget(self, number: str) -> dict[str, Any]:
        return self._control("DELETE", f"/numbers/{quote(number, safe='')}")

    def reset(self) -> None:
        self._control("POST", "/reset")

    def configure_push(
        self, url: str, *, seventeentrack_key: str = "", aftership_secret: str = ""
    ) -> dict[str, Any]:
        """Push 17TRACK/AfterShip updates of added events to the app at `url` ("" : off)."""
        body = {
            "url": url,
            "seventeentrack_key": seventeentrack_key,
            "aftership_secret": aftership_secret,
        }
        return self._control("POST", "/push", body)

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "/stats")

    def track(self, *numbers: str) -> dict[str, Any]:
        """The native endpoint's answer for these numbers."""
        response = self.session.get(
            f"{self.url}/sandbox/v1/track", params={"numbers": ",".join(numbers)}, timeout=10
        )
        response.raise_for_status()
        return response.json()


class SandboxProcess(Process, SandboxClient):
    """`manage.py carrier_sandbox` in its own process group, ready once `/_sandbox/health`
    answers; the control API's methods on the same object."""

    def __init__(
        self,
        *,
        port: int | None = None,
        latency_ms: int = 0,
        epoch: dt.datetime | None = None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        ready_timeout: float = 15.0,
        timeout: Timeout = 5.0,
        **process: Any,
    ) -> None:
        self.port = port or free_port()
        self.latency_ms = latency_ms
        self.epoch = epoch or current_hour()
        url = local_url(self.port)
        SandboxClient.__init__(self, url, timeout=timeout)
        Process.__init__(
            self,
            process.pop("name", "sandbox"),
            sandbox_argv(self.port, latency_ms, self.epoch),
            env=env,
            log=log,
            ready=http_ok(f"{url}/_sandbox/health"),
            ready_timeout=ready_timeout,
            describe=process.pop("describe", f"carrier sandbox on {url}, latency {latency_ms} ms"),
            **process,
        )

    def start(self) -> SandboxProcess:
        super().start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout)
        self.session.close()
