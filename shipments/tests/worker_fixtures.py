"""A real Celery worker in a subprocess, for integration tests (never eager mode).

The worker uses the test database (a file for SQLite, `test_…` on PostgreSQL), the test Redis
database as broker, and the carrier sandbox for every carrier. Tests that use it must be
`django_db(transaction=True)` so that what they write is committed and visible to the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url() -> str:
    """The URL of the database the test run is using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 2) -> None:
        self.env = env
        self.log = log
        self.concurrency = concurrency
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "resync_site",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        start = self.log.stat().st_size if self.log.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: see {self.log}")
            if b" ready." in self.log.read_bytes()[start:]:
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s: see {self.log}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        """`kill -9` the whole worker (main process and its pool)."""
        self.stop(signal.SIGKILL)


# The sandbox accepts any non-empty credentials.
SANDBOX_CREDENTIALS = {
    "DHL_API_KEY": "sandbox-dhl-key",
    "UPS_CLIENT_ID": "sandbox-ups-id",
    "UPS_CLIENT_SECRET": "sandbox-ups-secret",
    "FEDEX_CLIENT_ID": "sandbox-fedex-id",
    "FEDEX_CLIENT_SECRET": "sandbox-fedex-secret",
    "USPS_CLIENT_ID": "sandbox-usps-id",
    "USPS_CLIENT_SECRET": "sandbox-usps-secret",
    "SEVENTEENTRACK_API_KEY": "sandbox-17track-key",
    "AFTERSHIP_API_KEY": "sandbox-aftership-key",
}


def worker_env(sandbox_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CARRIER_SANDBOX_URL": sandbox_url,
        "CARRIER_RETRY_BASE_DELAY": "0.2",
        "CARRIER_MAX_RETRIES": "3",
        "CARRIER_READ_TIMEOUT": "2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    for code in ("DHL", "UPS", "FEDEX", "USPS", "SEVENTEENTRACK", "AFTERSHIP", "SANDBOX"):
        env[f"{code}_RATE_LIMIT"] = "1000"
        env.pop(f"{code}_API_BASE_URL", None)
    env.update(SANDBOX_CREDENTIALS)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: Any, django_db_blocker: Any, carrier_sandbox: Any
) -> Iterator[WorkerProcess]:
    """One real worker for the whole session, consuming both queues."""
    from shipments.kv import get_redis

    get_redis().delete("interactive", "bulk")  # nothing left over from earlier runs
    with django_db_blocker.unblock():
        env = worker_env(carrier_sandbox.url)
    worker = WorkerProcess(env, ROOT / "var" / "test-logs" / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process: WorkerProcess, transactional_db: Any) -> WorkerProcess:
    return celery_worker_process


def wait_for(predicate: Callable[[], Any], timeout: float = 20, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; return it, or fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)
