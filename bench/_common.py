"""Shared setup for the sync-engine benchmarks (bulk_resync.py, single_during_bulk.py).

Order of use in a script:

    env = configure_environment(database_url=…, redis_url=…, sandbox_url=…)   # before Django
    django_setup()
    prepare_database(database_url)          # fresh SQLite file / emptied bench database, migrated
    reset_redis(redis_url)                  # FLUSHDB only for db 9, else our keys only
    store = seed_store("bench-a", 10_000)   # bulk_create, every shipment inside the 60d window
    with Subprocesses() as procs:           # sandbox and worker in their own process groups
        sandbox = procs.sandbox(port, latency_ms)
        worker = procs.worker(env, concurrency)

Nothing here asserts anything: the scripts print figures.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import env as harness_env  # noqa: E402
from harness import services  # noqa: E402
from harness.ports import free_port, local_url  # noqa: E402
from harness.processes import PYTHON, Process, Processes, tool  # noqa: E402
from harness.procfs import children, cpu_seconds, machine_cpu_seconds, vm_hwm_kb  # noqa: E402
from harness.sandbox import SandboxProcess  # noqa: E402
from shipments.carriers import catalogue  # noqa: E402

__all__ = ["children", "cpu_seconds", "free_port", "machine_cpu_seconds", "vm_hwm_kb"]

BENCH_DIR = ROOT / "var" / "bench"
DEMO_CARRIERS = catalogue.CODES
# The sandbox accepts any non-empty credentials.
DUMMY_CREDENTIALS = harness_env.sandbox_credentials("bench")
PROTECTED_DATABASES = {"test", "test_test", "postgres", "template0", "template1"}
FLUSHABLE_REDIS_DB = 9


def command_line() -> str:
    return shlex.join(
        [Path(PYTHON).relative_to(ROOT).as_posix() if _in_root(PYTHON) else PYTHON, *sys.argv]
    )


def _in_root(path: str) -> bool:
    try:
        Path(path).relative_to(ROOT)
    except ValueError:
        return False
    return True


def default_sqlite_url(name: str) -> str:
    return f"sqlite:///{BENCH_DIR / name}"


# --- Environment and Django -----------------------------------------------------------------------


def configure_environment(
    *,
    database_url: str,
    redis_url: str,
    sandbox_url: str,
    rate_limit: str = "5000",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Set this process's environment for Django and return the one to give the worker."""
    values = {
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
        "DEBUG": "0",  # production-like: no query log in the worker
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghij",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env = harness_env.child_env(
        values,
        harness_env.carrier_env(sandbox_url, rate_limit=rate_limit, tag="bench"),
        extra or {},
    )
    for name in set(os.environ) - set(env):  # the carrier base URLs: the sandbox must win
        del os.environ[name]
    os.environ.update(env)
    return dict(os.environ)


@dataclass(frozen=True)
class BenchSetup:
    env: dict[str, str]
    sandbox_port: int
    log_dir: Path


def setup_from_args(args: Any) -> BenchSetup:
    """What both sync-engine benchmarks do first: pick the sandbox's port, set the environment
    (database, Redis, sandbox, optional carrier fan-out) and start Django."""
    sandbox_port = free_port()
    extra: dict[str, str] = {}
    if args.carrier_concurrency is not None:
        extra["CARRIER_MAX_CONCURRENCY"] = str(args.carrier_concurrency)
    env = configure_environment(
        database_url=args.database_url,
        redis_url=args.redis_url,
        sandbox_url=local_url(sandbox_port),
        extra=extra,
    )
    django_setup()
    logging.getLogger("shipments").setLevel(logging.WARNING)  # the worker logs at INFO
    return BenchSetup(env=env, sandbox_port=sandbox_port, log_dir=BENCH_DIR / "logs")


def django_setup() -> None:
    import django

    django.setup()


def _database_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme.startswith("sqlite"):
        return "sqlite", unquote(parts.path)
    return scheme, unquote(parts.path.lstrip("/"))


def prepare_database(url: str) -> str:
    """Migrate a fresh database. SQLite: delete the file first. Others: the database must exist
    (create it yourself) and is emptied only when its name contains "bench"."""
    from django.core.management import call_command

    from shipments.models import Store

    kind, name = _database_name(url)
    if name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}")
    if kind == "sqlite":
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    if Store.objects.exists():
        if "bench" not in name:
            raise SystemExit(f"database {name!r} is not empty and not a bench database")
        call_command("flush", verbosity=0, interactive=False)
    return kind


def reset_redis(url: str) -> None:
    """FLUSHDB when the URL is Redis database 9 (the bench's own); else delete only our keys."""
    import redis

    client = redis.Redis.from_url(url)
    db = int(client.connection_pool.connection_kwargs.get("db") or 0)
    if db == FLUSHABLE_REDIS_DB:
        client.flushdb()
    else:
        keys = [*client.scan_iter("resync*", count=1000), b"bulk", b"interactive"]
        client.delete(*keys)
    client.close()


# --- Seed data ------------------------------------------------------------------------------------


def seed_store(
    slug: str,
    shipments: int,
    *,
    window: str = "60d",
    time_zone: str = "America/New_York",
    number_offset: int = 0,
) -> Any:
    """A store with `shipments` shipments round-robin over the six demo carriers, spread over
    the window (minus a day of margin, so a date change before the click loses none)."""
    from django.db import transaction
    from django.utils import timezone

    from shipments.carriers.numbers import example_number
    from shipments.models import Order, Shipment, Store
    from shipments.windows import window_bounds

    now = timezone.now()
    start, _ = window_bounds(window, time_zone=time_zone, now=now)
    oldest = start + dt.timedelta(days=1)
    span = (now - dt.timedelta(minutes=1)) - oldest
    with transaction.atomic():
        store = Store.objects.create(
            name=slug.title(), slug=slug, time_zone=time_zone, display_name=slug.title()
        )
        orders = [
            Order(
                store=store,
                order_number=f"#{100001 + i}",
                customer_email=f"shopper{i}@example.com",
                placed_at=now - span * (i / max(shipments, 1)) - dt.timedelta(hours=2),
            )
            for i in range(shipments)
        ]
        Order.objects.bulk_create(orders, batch_size=1000)
        order_ids = dict(Order.objects.filter(store=store).values_list("order_number", "id"))
        rows = []
        for i in range(shipments):
            carrier = DEMO_CARRIERS[i % len(DEMO_CARRIERS)]
            rows.append(
                Shipment(
                    store=store,
                    order_id=order_ids[f"#{100001 + i}"],
                    carrier=carrier,
                    tracking_number=example_number(carrier, number_offset + i),
                    origin="Leipzig, DE",
                    destination="Chicago, IL, US",
                    shipped_at=now - dt.timedelta(minutes=1) - span * (i / max(shipments, 1)),
                    next_sync_at=now,
                )
            )
        Shipment.objects.bulk_create(rows, batch_size=1000)
    return store


def window_count(store: Any, window: str = "60d") -> int:
    from shipments import services

    return services.store_window_queryset(store=store, window=window).count()


class AutoAnalyze:
    """PostgreSQL with `autovacuum = off` (as on some dev servers) never gathers statistics, so
    the planner scans whole tables for `shipment_id IN (…)`. This stands in for autovacuum's
    autoanalyze: ANALYZE the sync tables every `interval` s. Does nothing elsewhere."""

    TABLES = ("shipments_shipment", "shipments_trackingevent", "shipments_syncrunitem")

    def __init__(self, interval: float = 5.0) -> None:
        from django.db import connection

        self.interval = interval
        self.runs = 0
        self.enabled = False
        self.vendor = connection.vendor
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW autovacuum")
                self.enabled = cursor.fetchone()[0] == "off"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def analyze(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(self.TABLES))
        self.runs += 1

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.interval):
                self.analyze()
        finally:
            connection.close()

    def start(self) -> AutoAnalyze:
        if self.enabled:
            self.analyze()
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def note(self) -> str:
        if not self.enabled:
            return "autovacuum on" if self.vendor == "postgresql" else "WAL"
        return f"server has autovacuum off: ANALYZE every {self.interval:.0f} s ({self.runs} runs)"


# --- Subprocesses ---------------------------------------------------------------------------------


class Subprocesses(Processes):
    """Owns every subprocess a benchmark starts (the harness's processes); all stopped on exit."""

    def sandbox(self, port: int, latency_ms: int, env: dict[str, str], log: Path) -> SandboxProcess:
        sandbox = SandboxProcess(
            port=port, latency_ms=latency_ms, env=env, log=log, truncate_log=True, stop_timeout=20
        )
        sandbox.name = f"sandbox:{port}"
        self.start(sandbox)
        return sandbox

    def worker(
        self,
        env: dict[str, str],
        concurrency: int,
        log: Path,
        *,
        queues: str | None = None,
        name: str = "bench",
    ) -> Process:
        worker = services.celery_worker(
            env,
            name=f"worker:{name}",
            hostname=name,
            concurrency=concurrency,
            queues=queues,
            log=log,
            truncate_log=True,
        )
        return self.start(worker)


def py_spy_record(pid: int, output: Path, *, rate: int, subprocesses: bool = False) -> Process:
    """`py-spy record` of `pid` into `output` (raw stacks), in its own process group; it writes
    its output when stopped (SIGINT)."""
    argv = [tool("py-spy"), "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking"]
    argv += ["--format", "raw", "--output", str(output)]
    if subprocesses:
        argv.append("--subprocesses")
    return Process(f"py-spy:{pid}", argv, stop_signal=signal.SIGINT, stop_timeout=30)


class PySpy:
    """`py-spy record` of some processes while a benchmark runs (optional; py-spy is not a
    requirement: `.venv/bin/pip install py-spy`)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.recorders: list[Process] = []

    def record(self, name: str, pid: int, *, subprocesses: bool = False) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        output = self.out_dir / f"{name}.txt"
        recorder = py_spy_record(pid, output, rate=50, subprocesses=subprocesses)
        self.recorders.append(recorder.spawn())

    def stop(self) -> None:
        for recorder in self.recorders:  # all at once: each writes its output on SIGINT
            if recorder.running():
                recorder.signal_group(signal.SIGINT)
        for recorder in self.recorders:
            if not recorder.wait(recorder.stop_timeout):
                recorder.kill()
        self.recorders.clear()


class PeakRss:
    """Samples VmHWM of a worker's main process and pool children (children may come and go)."""

    def __init__(self, worker: Process, interval: float = 0.5) -> None:
        self.worker = worker
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for pid in [self.worker.pid, *children(self.worker.pid)]:
            kb = vm_hwm_kb(pid)
            if kb:
                self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> PeakRss:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join()
        self.sample()
        return self.peaks

    def summary(self) -> str:
        main = self.peaks.get(self.worker.pid, 0)
        pool = [kb for pid, kb in self.peaks.items() if pid != self.worker.pid]
        every = [main, *pool]
        return (
            f"max {max(every) / 1024:.0f} MiB, sum {sum(every) / 1024:.0f} MiB "
            f"(main {main / 1024:.0f} MiB, {len(pool)} children: "
            + ", ".join(f"{kb / 1024:.0f}" for kb in sorted(pool))
            + " MiB)"
        )


def cpu_seconds_of(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    return sum(cpu_seconds(pid) for pid in pids)


# --- Sandbox load ---------------------------------------------------------------------------------


def hammer(
    threads: int, seconds: float, call: Callable[[requests.Session, int, int], requests.Response]
) -> tuple[float, int, int]:
    """Run `call` in `threads` threads (one keep-alive session each) for `seconds`.

    Returns (requests per second of 200 answers, ok count, error count)."""
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        with requests.Session() as session:
            n = 0
            while time.monotonic() < stop:
                try:
                    response = call(session, i, n)
                except requests.RequestException:
                    errors[i] += 1
                else:
                    if response.status_code == 200:
                        counts[i] += 1
                    else:
                        errors[i] += 1
                n += 1

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    return sum(counts) / elapsed, sum(counts), sum(errors)


def dhl_call(url: str, numbers: list[str]) -> Callable[[requests.Session, int, int], Any]:
    def call(session: requests.Session, i: int, n: int) -> requests.Response:
        return session.get(
            f"{url}/track/shipments",
            params={"trackingNumber": numbers[(i * 31 + n) % len(numbers)]},
            headers={
                "DHL-API-Key": DUMMY_CREDENTIALS[catalogue.BY_CODE["dhl"].credential_env["api_key"]]
            },
            timeout=10,
        )

    return call


def fedex_call(
    url: str, numbers: list[str], per_request: int = 30
) -> Callable[[requests.Session, int, int], Any]:
    """FedEx's batch endpoint, `per_request` numbers a request (one OAuth token a thread)."""
    tokens: dict[int, str] = {}
    credentials = catalogue.BY_CODE["fedex"].credential_env

    def token(session: requests.Session, i: int) -> str:
        if i not in tokens:
            response = session.post(
                f"{url}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": DUMMY_CREDENTIALS[credentials["client_id"]],
                    "client_secret": DUMMY_CREDENTIALS[credentials["client_secret"]],
                },
                timeout=10,
            )
            tokens[i] = response.json()["access_token"]
        return tokens[i]

    def call(session: requests.Session, i: int, n: int) -> requests.Response:
        start = ((i * 31 + n) * per_request) % len(numbers)
        batch = (numbers + numbers)[start : start + per_request]
        return session.post(
            f"{url}/track/v1/trackingnumbers",
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": b}} for b in batch],
            },
            headers={"Authorization": f"Bearer {token(session, i)}"},
            timeout=10,
        )

    return call


def fan_out_width() -> int:
    """Requests one `track()` call of a one-number-per-request carrier keeps in flight."""
    from django.conf import settings

    from shipments.carriers import dhl

    width = getattr(dhl, "MAX_WORKERS", None)
    return width if isinstance(width, int) else int(settings.CARRIER_MAX_CONCURRENCY)


def chunk_sizes() -> str:
    """Shipments per chunk task, as the dispatcher plans them, for each demo carrier."""
    from shipments import services

    return ", ".join(f"{code} {services.chunk_size(code)}" for code in DEMO_CARRIERS)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
