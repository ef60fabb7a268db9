"""A real Celery worker in a subprocess, for integration tests (never eager mode).

The worker uses the test database (a file for SQLite, `test_…` on PostgreSQL), the test Redis
database as broker, and the carrier sandbox for every carrier. Tests that use it must be
`django_db(transaction=True)` so that what they write is committed and visible to the worker.
The process itself is the harness's (harness/services.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from harness import env as harness_env
from harness.processes import ROOT, Process
from harness.services import celery_worker
from harness.wait import WaitTimeout, wait_until

# The sandbox accepts any non-empty credentials (one for every carrier of the catalogue).
SANDBOX_CREDENTIALS = harness_env.sandbox_credentials("sandbox")
LOG = ROOT / "var" / "test-logs" / "worker.log"

WorkerProcess = Process


def database_url() -> str:
    """The URL of the database the test run is using right now (the test database)."""
    return harness_env.database_url(connection.settings_dict)


def worker_env(sandbox_url: str, **extra: str) -> dict[str, str]:
    return harness_env.child_env(
        {
            "DJANGO_SETTINGS_MODULE": "resync_site.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CARRIER_RETRY_BASE_DELAY": "0.2",
            "CARRIER_MAX_RETRIES": "3",
            "CARRIER_READ_TIMEOUT": "2",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # Webhook tests receive on 127.0.0.1 (hooks/tests/receiver.py).
            "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        },
        harness_env.carrier_env(sandbox_url, rate_limit=1000, tag="sandbox"),
        extra,
    )


def start_worker(env: dict[str, str], log: Path = LOG, concurrency: int = 2) -> Process:
    """A worker consuming both queues, started and ready (RuntimeError if it is not)."""
    worker = celery_worker(
        env, name="test", concurrency=concurrency, log=log, ready_timeout=30, stop_timeout=20
    )
    return worker.start()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: Any, django_db_blocker: Any, carrier_sandbox: Any, mail_server: Any
) -> Iterator[Process]:
    """One real worker for the whole session, consuming both queues, sending e-mail to the
    session's SMTP server (notify/tests/mail_fixtures.py)."""
    from shipments.redis_client import get_redis

    get_redis().delete("interactive", "bulk")  # nothing left over from earlier runs
    with django_db_blocker.unblock():
        env = worker_env(carrier_sandbox.url, EMAIL_URL=mail_server.url)
    worker = start_worker(env)
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process: Process, transactional_db: Any) -> Iterator[Process]:
    yield celery_worker_process
    # Before the test's tables are emptied: let the worker finish what the test started (a job
    # still applying while PostgreSQL truncates the tables can deadlock the flush, and its rows
    # would land in the next test). Bounded: a task waiting on a countdown is not awaited.
    with contextlib.suppress(WaitTimeout):
        wait_until(_worker_idle, timeout=10, interval=0.1, what="the worker to be idle")


def _worker_idle() -> bool:
    """No message queued and none taken but not yet acknowledged (tasks are `acks_late`)."""
    from shipments.redis_client import get_redis

    redis = get_redis()
    return not (redis.llen("interactive") or redis.llen("bulk") or redis.hlen("unacked"))


def wait_for(predicate: Callable[[], Any], timeout: float = 20, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; return it, or fail the test after `timeout` s."""
    try:
        return wait_until(predicate, timeout=timeout, interval=interval)
    except WaitTimeout:
        pytest.fail(f"condition not met within {timeout}s")
