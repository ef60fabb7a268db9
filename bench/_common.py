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

import contextlib
import datetime as dt
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))

DEMO_CARRIERS = ("dhl", "ups", "fedex", "usps", "17track", "aftership")
_CARRIER_ENV = ("DHL", "UPS", "FEDEX", "USPS", "SEVENTEENTRACK", "AFTERSHIP", "SANDBOX")
# The sandbox accepts any non-empty credentials.
DUMMY_CREDENTIALS = {
    "DHL_API_KEY": "bench-dhl-key",
    "UPS_CLIENT_ID": "bench-ups-id",
    "UPS_CLIENT_SECRET": "bench-ups-secret",
    "FEDEX_CLIENT_ID": "bench-fedex-id",
    "FEDEX_CLIENT_SECRET": "bench-fedex-secret",
    "USPS_CLIENT_ID": "bench-usps-id",
    "USPS_CLIENT_SECRET": "bench-usps-secret",
    "SEVENTEENTRACK_API_KEY": "bench-17track-key",
    "AFTERSHIP_API_KEY": "bench-aftership-key",
}
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


def free_port() -> int:
    """A free TCP port on 127.0.0.1, never 8000 or 8100 (the demo's)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in (8000, 8100):
            return port


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
        "CARRIER_SANDBOX_URL": sandbox_url,
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **DUMMY_CREDENTIALS,
        **{f"{code}_RATE_LIMIT": rate_limit for code in _CARRIER_ENV},
    }
    values.update(extra or {})
    for code in _CARRIER_ENV:
        os.environ.pop(f"{code}_API_BASE_URL", None)
    os.environ.update(values)
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
    extra = {}
    if args.carrier_concurrency is not None:
        extra["CARRIER_MAX_CONCURRENCY"] = str(args.carrier_concurrency)
    env = configure_environment(
        database_url=args.database_url,
        redis_url=args.redis_url,
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        extra=extra,
    )
    django_setup()
    logging.getLogger("shipments").setLevel(logging.WARNING)  # the worker logs at INFO
    return BenchSetup(env=env, sandbox_port=sandbox_port, log_dir=BENCH_DIR / "logs")


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
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


class Process:
    """A subprocess in its own session (process group); stop() signals the whole group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_handle = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        # Leftovers of the group (e.g. pool children of a killed worker).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log_handle.close()


class Subprocesses:
    """Context manager owning every subprocess a benchmark starts; all stopped on exit."""

    def __init__(self) -> None:
        self.started: list[Process] = []

    def __enter__(self) -> Subprocesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()

    def stop(self, process: Process) -> None:
        if process in self.started:
            self.started.remove(process)
        process.stop()

    def sandbox(self, port: int, latency_ms: int, env: dict[str, str], log: Path) -> Sandbox:
        epoch = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        argv = [
            PYTHON,
            "manage.py",
            "carrier_sandbox",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--epoch",
            epoch.isoformat(),  # never touch the demo's var/sandbox-epoch
        ]
        sandbox = Sandbox(f"sandbox:{port}", argv, env, log, port=port, latency_ms=latency_ms)
        self.started.append(sandbox)
        sandbox.wait_ready()
        return sandbox

    def worker(
        self,
        env: dict[str, str],
        concurrency: int,
        log: Path,
        *,
        queues: str | None = None,
        name: str = "bench",
    ) -> Worker:
        argv = [
            CELERY,
            "-A",
            "resync_site",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
        ]
        if queues:
            argv += ["--queues", queues]
        worker = Worker(f"worker:{name}", argv, env, log)
        self.started.append(worker)
        worker.wait_ready()
        return worker


class Sandbox(Process):
    def __init__(self, *args: Any, port: int, latency_ms: int) -> None:
        super().__init__(*args)
        self.port = port
        self.latency_ms = latency_ms
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                break
            try:
                if requests.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"sandbox did not start on {self.url}:\n{self.output()[-2000:]}")

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_sandbox/stats", timeout=5).json()


class Worker(Process):
    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                break
            if " ready." in self.output():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready:\n{self.output()[-3000:]}")

    def pool_pids(self) -> list[int]:
        return children(self.pid)


# --- /proc ----------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    if found:
        return sorted(set(found))
    for stat in Path("/proc").glob("[0-9]*/stat"):  # kernels without task/*/children
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def vm_hwm_kb(pid: int) -> int:
    """Peak resident set size (VmHWM) of a process, in KiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def group_cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


class PySpy:
    """`py-spy record` of some processes while a benchmark runs (optional; py-spy is not a
    requirement: `.venv/bin/pip install py-spy`)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.recorders: list[subprocess.Popen[bytes]] = []
        exe = Path(sys.executable).with_name("py-spy")
        self.exe = str(exe) if exe.exists() else "py-spy"

    def record(self, name: str, pid: int, *, subprocesses: bool = False) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.exe, "record", "--pid", str(pid), "--rate", "50", "--nonblocking"]
        argv += ["--format", "raw", "--output", str(self.out_dir / f"{name}.txt")]
        if subprocesses:
            argv.append("--subprocesses")
        self.recorders.append(
            subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
        )

    def stop(self) -> None:
        for recorder in self.recorders:
            if recorder.poll() is None:
                os.killpg(recorder.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
        for recorder in self.recorders:
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(recorder.pid, signal.SIGKILL)
                recorder.wait()
        self.recorders.clear()


class PeakRss:
    """Samples VmHWM of a worker's main process and pool children (children may come and go)."""

    def __init__(self, worker: Worker, interval: float = 0.5) -> None:
        self.worker = worker
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for pid in [self.worker.pid, *self.worker.pool_pids()]:
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
            headers={"DHL-API-Key": DUMMY_CREDENTIALS["DHL_API_KEY"]},
            timeout=10,
        )

    return call


def native_call(
    url: str, numbers: list[str], per_request: int = 1
) -> Callable[[requests.Session, int, int], Any]:
    def call(session: requests.Session, i: int, n: int) -> requests.Response:
        start = ((i * 31 + n) * per_request) % len(numbers)
        batch = (numbers + numbers)[start : start + per_request]
        return session.get(
            f"{url}/sandbox/v1/track", params={"numbers": ",".join(batch)}, timeout=10
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

    return ", ".join(f"{code} {services._chunk_size(code)}" for code in DEMO_CARRIERS)


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
