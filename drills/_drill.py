"""What every fault drill shares: real processes, a report of PASS/FAIL lines, and cleanup.

A drill owns everything it starts: its own `redis-server` on a free port (nothing on disk), its
own PostgreSQL database (`resync_drill_<name>_<pid>`, dropped at the end) or SQLite file, the
carrier sandbox, gunicorn, Celery worker(s) and beat, each in its own process group so that a
kill reaches the whole tree (the processes, ports, environment and sandbox client are the
harness's: harness/). Logs stay in the run directory (printed at the end).

The drill process itself sets the same environment and uses the ORM to seed data and to read
what the processes did; it never does the work itself.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import env as harness_env  # noqa: E402
from harness import services  # noqa: E402
from harness.ports import free_port, local_url  # noqa: E402
from harness.processes import Process, Processes  # noqa: E402
from harness.procfs import group_members  # noqa: E402
from harness.sandbox import SandboxClient, SandboxProcess, current_hour  # noqa: E402
from harness.wait import HarnessError, wait_until  # noqa: E402
from shipments.carriers import catalogue  # noqa: E402

__all__ = ["Process", "group_members", "wait_until"]

CARRIERS = catalogue.CODES
HTTP_TIMEOUT = (3.0, 15.0)  # connect, read: every drill request has a timeout
JSON = {"Accept": "application/json"}
PASSWORD = "drill-password-0"  # noqa: S105 - throwaway merchants in a throwaway database

# A wait ran out or a step could not be done: the drill stops and fails.
DrillFailed = HarnessError
Service = Process


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


# --- Report -----------------------------------------------------------------------------------------


class Report:
    """Timestamped steps and PASS/FAIL lines; the exit code follows the failures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.passed = 0
        self.failed: list[str] = []
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step(self, message: str) -> None:
        with self._lock:
            print(f"[{self.elapsed():6.1f}s] {message}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        with self._lock:
            if ok:
                self.passed += 1
            else:
                self.failed.append(name)
            suffix = f" — {detail}" if detail else ""
            print(f"{'PASS' if ok else 'FAIL'} {name}{suffix}", flush=True)
        return ok

    def fail(self, name: str, detail: str = "") -> None:
        self.check(name, False, detail)


# --- Database -----------------------------------------------------------------------------------------


class Database:
    """A PostgreSQL database of the drill's own (created and dropped here), or a SQLite file."""

    PROTECTED = frozenset({"postgres", "test", "test_test", "template0", "template1"})

    def __init__(self, drill: Drill, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.created = False
        if sqlite:
            self.name = str(drill.run_dir / "drill.sqlite3")
            self.url = f"sqlite:///{self.name}"
            self.kind = "sqlite"
            return
        self.kind = "postgresql"
        self.host = os.environ.get("DRILL_PGHOST", "127.0.0.1")
        self.port = os.environ.get("DRILL_PGPORT", "5432")
        self.user = os.environ.get("DRILL_PGUSER", "postgres")
        self.password = os.environ.get("DRILL_PGPASSWORD", "")
        self.name = f"resync_drill_{drill.name}_{os.getpid()}"
        assert self.name.startswith("resync_drill_")
        assert self.name not in self.PROTECTED
        self.url = harness_env.postgres_url(
            self.name, user=self.user, password=self.password, host=self.host, port=self.port
        )

    def _pg(self, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ}
        if self.password:
            env["PGPASSWORD"] = self.password
        common = ["-h", self.host, "-p", self.port, "-U", self.user]
        return subprocess.run(
            [argv[0], *common, *argv[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def create(self) -> None:
        if self.sqlite:
            self.created = True
            return
        if shutil.which("createdb") is None:
            raise DrillFailed("createdb not found (install postgresql-client or use --sqlite)")
        deadline = time.monotonic() + 120
        while True:
            result = self._pg("createdb", self.name)
            if result.returncode == 0:
                break
            # A server shared with other work may be out of connection slots for a while.
            if "too many clients" not in result.stderr or time.monotonic() > deadline:
                raise DrillFailed(f"createdb {self.name} failed: {result.stderr.strip()}")
            time.sleep(2)
        self.created = True

    def drop(self) -> None:
        if self.sqlite or not self.created:
            return
        assert self.name.startswith("resync_drill_")
        assert self.name not in self.PROTECTED
        result = self._pg("dropdb", "--if-exists", "--force", self.name)
        if result.returncode != 0:
            print(f"warning: dropdb {self.name}: {result.stderr.strip()}", flush=True)
        self.created = False


# --- HTTP users ---------------------------------------------------------------------------------------


class Browser:
    """One person: a `requests.Session` with Django's session and CSRF cookies."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, *, json_: bool = False, **kw: Any) -> requests.Response:
        headers = {**(JSON if json_ else {}), **kw.pop("headers", {})}
        return self.session.get(
            self.base + path, headers=headers, timeout=kw.pop("timeout", HTTP_TIMEOUT), **kw
        )

    def post(
        self, path: str, data: dict[str, str] | None = None, *, json_: bool = True, **kw: Any
    ) -> requests.Response:
        """A scripted POST: CSRF token from the `csrftoken` cookie in `X-CSRFToken`."""
        headers = {
            **(JSON if json_ else {}),
            "X-CSRFToken": self.session.cookies.get("csrftoken", ""),
            "Referer": self.base + path,
            **kw.pop("headers", {}),
        }
        return self.session.post(
            self.base + path,
            data=data or {},
            headers=headers,
            timeout=kw.pop("timeout", HTTP_TIMEOUT),
            allow_redirects=False,
            **kw,
        )

    def login(self, username: str, password: str = PASSWORD) -> None:
        page = self.get("/accounts/login/")
        if page.status_code != 200 or "csrftoken" not in self.session.cookies:
            raise DrillFailed(f"login page: HTTP {page.status_code}, no csrftoken cookie")
        response = self.session.post(
            self.base + "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            headers={"Referer": self.base + "/accounts/login/"},
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )
        if response.status_code != 302 or "sessionid" not in self.session.cookies:
            raise DrillFailed(f"login of {username}: HTTP {response.status_code}")
        # The login rotated the CSRF token: pick up the new cookie from a merchant page.
        page = self.get("/app/shipments/")
        if page.status_code != 200:
            raise DrillFailed(f"/app/shipments/ after login: HTTP {page.status_code}")


def retry_after_of(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- The drill ------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    store_id: int
    shipment_ids: list[int]
    merchants: list[str]
    by_carrier: dict[str, list[int]] = field(default_factory=dict)


def arguments(
    description: str,
    *,
    full_n: int | None = None,
    quick_n: int | None = None,
    options: Callable[[argparse.ArgumentParser], None] | None = None,
):
    """The options every drill takes; `options(parser)` adds a drill's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="CI size: fewer shipments, shorter waits"
    )
    parser.add_argument(
        "--sqlite", action="store_true", help="SQLite file instead of a PostgreSQL database"
    )
    if full_n is not None:
        parser.add_argument(
            "-n",
            "--shipments",
            type=int,
            default=None,
            help=f"shipments to seed (default {full_n}, --quick {quick_n})",
        )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    if options is not None:
        options(parser)
    args = parser.parse_args()
    if full_n is not None and args.shipments is None:
        args.shipments = quick_n if args.quick else full_n
    return args


class Drill:
    """Context manager: run directory, database, processes; everything stopped in `__exit__`."""

    def __init__(self, name: str, args: argparse.Namespace, **settings: Any) -> None:
        self.name = name
        self.args = args
        self.report = Report(name)
        self.run_dir = Path(
            tempfile.mkdtemp(prefix=f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-", dir=_runs_dir())
        )
        self.db = Database(self, sqlite=args.sqlite)
        self.processes = Processes()
        self.settings = {str(k): str(v) for k, v in settings.items()}
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.sandbox_port = free_port()
        self.sandbox_url = local_url(self.sandbox_port)
        self.web_port = free_port()
        self.web_url = local_url(self.web_port)
        self.sandbox = SandboxClient(self.sandbox_url, timeout=HTTP_TIMEOUT)
        self.redis_service: Process | None = None
        self._django_ready = False

    @property
    def services(self) -> list[Process]:
        """Every process started so far and not stopped by the cleanup, in start order."""
        return self.processes.started

    # --- Life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> Drill:
        signal.signal(signal.SIGTERM, _raise_interrupt)
        mode = "quick" if self.args.quick else "full"
        print(
            f"== drill {self.name} ({mode}, {self.db.kind}) — logs in {self.run_dir} ==", flush=True
        )
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        report = self.report
        if exc is not None:
            if isinstance(exc, DrillFailed):
                report.fail("drill completed its steps", str(exc))
            elif isinstance(exc, KeyboardInterrupt):
                report.fail("drill completed its steps", "interrupted")
            else:
                report.fail("drill completed its steps", "".join(traceback.format_exception(exc)))
        self.cleanup()
        ok = not report.failed
        summary = "PASS" if ok else f"FAIL ({', '.join(report.failed)})"
        print(
            f"== {self.name}: {summary} — {report.passed} checks passed, "
            f"{len(report.failed)} failed, {report.elapsed():.1f}s ==",
            flush=True,
        )
        self.exit_code = 0 if ok else 1
        return True  # the exception is reported above

    def cleanup(self) -> None:
        if self._django_ready:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
        self.processes.stop_all(
            on_error=lambda p, exc: print(f"warning: stopping {p.name}: {exc}", flush=True)
        )
        if self.args.keep_db:
            print(f"kept database {self.db.url}", flush=True)
        else:
            try:
                self.db.drop()
            except Exception as exc:  # noqa: BLE001
                print(f"warning: dropping the database: {exc}", flush=True)

    # --- Environment --------------------------------------------------------------------------

    def env(self, **extra: Any) -> dict[str, str]:
        return harness_env.child_env(
            harness_env.SITE_OVER_HTTP,
            {
                "DJANGO_SETTINGS_MODULE": "resync_site.settings",
                "SECRET_KEY": "drill-secret-key-" + "x" * 40,
                "DATABASE_URL": self.db.url,
                "REDIS_URL": self.redis_url,
                "CELERY_BROKER_URL": self.redis_url,
                "CELERY_BEAT_SCHEDULE_FILENAME": str(self.run_dir / "celerybeat-schedule"),
                # The scheduled sync would pull the same shipments: keep it out of the drill.
                "SCHEDULED_SYNC_INTERVAL_SECONDS": "86400",
                "RECONCILE_INTERVAL_SECONDS": "5",
                "SYNC_RUN_STALL_SECONDS": "10",
                "CARRIER_READ_TIMEOUT": "2",
                "CARRIER_CONNECT_TIMEOUT": "2",
                "CARRIER_MAX_RETRIES": "3",
                "CARRIER_RETRY_BASE_DELAY": "0.5",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            },
            harness_env.carrier_env(self.sandbox_url, rate_limit=1000, tag="drill"),
            self.settings,
            extra,
            drop=harness_env.FOREIGN,
        )

    def describe_settings(self) -> str:
        env = self.env()
        keys = (
            "SYNC_RUN_STALL_SECONDS",
            "RECONCILE_INTERVAL_SECONDS",
            "CARRIER_READ_TIMEOUT",
            "CARRIER_MAX_RETRIES",
            "CARRIER_RETRY_BASE_DELAY",
            "TRACK_RESYNC_RATE_PER_IP",
        )
        return ", ".join(f"{k}={env[k]}" for k in keys if k in env)

    # --- Starting things ----------------------------------------------------------------------

    def _own(self, name: str) -> dict[str, Any]:
        """What every drill process gets: a log in the run directory, death with the drill, a
        report line when it is ready."""
        return {
            "log": self.run_dir / f"{name}.log",
            "die_with_parent": True,
            "on_ready": lambda p, took: self.report.step(
                f"{p.describe} ready in {took:.1f}s (pid/pgid {p.pid})"
            ),
        }

    def _launch(self, process: Process, wait: bool) -> Process:
        self.processes.spawn(process)
        return process.wait_ready() if wait else process

    def start_redis(self, describe: str = "") -> Process:
        """A Redis of the drill's own: no RDB, no AOF, so a restart comes back empty."""
        service = services.redis_server(
            self.redis_port,
            self.run_dir,
            env=dict(os.environ),
            describe=describe or f"redis-server on 127.0.0.1:{self.redis_port} (no RDB/AOF)",
            **self._own("redis"),
        )
        self.redis_service = self._launch(service, wait=True)
        return service

    def start_sandbox(self, *, latency_ms: int, wait: bool = True) -> Process:
        sandbox = SandboxProcess(
            port=self.sandbox_port,
            latency_ms=latency_ms,
            epoch=current_hour(),
            env=self.env(),
            ready_timeout=40,
            **self._own("sandbox"),
        )
        return self._launch(sandbox, wait)

    def migrate(self) -> None:
        self.db.create()
        services.manage(self.env(), "migrate", "--no-input", "-v", "0")
        self.report.step(f"database {self.db.kind} {self.db.name} migrated")

    def start_web(self, workers: int = 2, wait: bool = True) -> Process:
        web = services.gunicorn(
            self.env(),
            port=self.web_port,
            workers=workers,
            options=["--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-"],
            ready_timeout=40,
            describe=f"gunicorn ({workers} workers) on {self.web_url}",
            **self._own("web"),
        )
        return self._launch(web, wait)

    def start_worker(
        self,
        name: str = "worker",
        concurrency: int = 2,
        wait: bool = True,
        queues: str | None = None,
    ) -> Process:
        every = f", queues {queues})" if queues else ", every queue)"
        worker = services.celery_worker(
            self.env(),
            name=name,
            hostname=f"drill-{name}",
            concurrency=concurrency,
            queues=queues,
            heartbeat=True,
            stop_timeout=15,
            describe=f"celery worker {name!r} (concurrency {concurrency}{every}",
            **self._own(name),
        )
        return self._launch(worker, wait)

    def start_beat(self, wait: bool = True) -> Process:
        env = self.env()
        beat = services.celery_beat(
            env,
            ready_timeout=40,
            describe=(
                f"celery beat (reconciler every {env['RECONCILE_INTERVAL_SECONDS']}s, "
                f"stall after {env['SYNC_RUN_STALL_SECONDS']}s)"
            ),
            **self._own("beat"),
        )
        return self._launch(beat, wait)

    def start_stack(
        self, *, latency_ms: int, workers: int = 1, concurrency: int = 2, beat: bool = True
    ) -> dict[str, Process]:
        """Sandbox, web, worker(s) and beat, started at once; returns them once all are ready."""
        stack = {
            "sandbox": self.start_sandbox(latency_ms=latency_ms, wait=False),
            "web": self.start_web(wait=False),
        }
        for i in range(workers):
            name = f"worker{i + 1}"
            stack[name] = self.start_worker(name, concurrency=concurrency, wait=False)
        if beat:
            stack["beat"] = self.start_beat(wait=False)
        for service in stack.values():
            service.wait_ready()
        return stack

    # --- Django in this process (seeding and reading; never the work itself) -------------------

    def django(self) -> None:
        if self._django_ready:
            return
        os.environ.update(self.env())
        import django

        django.setup()
        self._django_ready = True

    def seed(self, *, shipments: int, merchants: int = 1, carriers=CARRIERS) -> Seeded:
        """A store `drill` with `shipments` shipped in the last two days (window `7d`), spread
        evenly over `carriers`, and `merchants` users who belong to it."""
        self.django()
        store, users = _seed_store_and_merchants(merchants)
        ids = _seed_shipments(store, shipments, carriers)
        by_carrier: dict[str, list[int]] = {}
        for sid, carrier in ids:
            by_carrier.setdefault(carrier, []).append(sid)
        self.report.step(
            f"seeded store 'drill': {len(ids)} shipments over {len(carriers)} carriers, "
            f"{len(users)} merchant(s)"
        )
        return Seeded(store.pk, [sid for sid, _ in ids], [u.username for u in users], by_carrier)

    def merchant(self, username: str) -> Browser:
        browser = Browser(self.web_url)
        browser.login(username)
        return browser

    def start_bulk_run(self, merchant: Browser) -> int:
        """The merchant clicks "resync" for the `7d` window: checked to be accepted (202)."""
        response = merchant.post("/app/shipments/resync/", {"window": "7d"})
        if not self.report.check(
            "merchant bulk resync accepted (202)",
            response.status_code == 202,
            f"HTTP {response.status_code}",
        ):
            raise DrillFailed(response.text[:300])
        run_id = response.json()["run"]
        self.report.step(f"run {run_id} started: {response.json()['total']} shipments")
        return run_id

    # --- Reading what happened ---------------------------------------------------------------

    def run_row(self, run_id: int):
        from django.db import close_old_connections

        from shipments.models import SyncRun

        close_old_connections()
        return SyncRun.objects.get(pk=run_id)

    def wait_run_finished(self, run_id: int, *, timeout: float, label: str = "run"):
        from shipments.models import ACTIVE_RUN_STATES

        last = [time.monotonic(), -1]

        def finished():
            run = self.run_row(run_id)
            if run.done != last[1] and time.monotonic() - last[0] > 5:
                self.report.step(f"{label} {run_id}: {run.state}, {run.done}/{run.total}")
                last[:] = [time.monotonic(), run.done]
            return run if run.state not in ACTIVE_RUN_STATES else None

        return wait_until(finished, timeout=timeout, what=f"{label} {run_id} to finish")

    def wait_run_done(self, run_id: int, target: int, *, timeout: float, what: str):
        """The run's row once `done` has reached `target` (polled every 50 ms)."""
        return wait_until(
            lambda: (r := self.run_row(run_id)).done >= target and r,
            timeout=timeout,
            what=what,
            interval=0.05,
        )

    def duplicate_events(self) -> list[tuple[Any, ...]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shipment_id, fingerprint, count(*) FROM shipments_trackingevent "
                "GROUP BY shipment_id, fingerprint HAVING count(*) > 1"
            )
            return list(cursor.fetchall())

    def check_run_exact(self, run_id: int, *, expected_total: int, label: str = "run") -> Any:
        """The counts of a finished run add up, each shipment accounted for exactly once, and no
        event is stored twice."""
        run = self.run_row(run_id)
        self._check_run_counts(run, expected_total, label)
        self._check_run_items(run, expected_total, label)
        self._check_no_duplicate_events()
        return run

    def _check_run_counts(self, run: Any, expected_total: int, label: str) -> None:
        report = self.report
        report.check(
            f"{label} finished",
            run.state in ("completed", "completed_with_errors"),
            f"state={run.state}",
        )
        report.check(
            f"{label} done == total == {expected_total}",
            run.done == run.total == expected_total,
            f"done={run.done} total={run.total}",
        )
        report.check(
            f"{label} done == changed + unchanged + failed",
            run.done == run.changed + run.unchanged + run.failed,
            f"{run.changed} + {run.unchanged} + {run.failed} = "
            f"{run.changed + run.unchanged + run.failed}",
        )

    def _check_run_items(self, run: Any, expected_total: int, label: str) -> None:
        from django.db.models import Count

        from shipments.models import SyncRunItem

        items = SyncRunItem.objects.filter(run_id=run.pk)
        by_outcome = dict(items.values_list("outcome").annotate(n=Count("id")).order_by())
        self.report.check(
            f"{label} items: one per shipment, none pending, outcomes match the counters",
            items.count() == expected_total
            and items.values("shipment_id").distinct().count() == expected_total
            and by_outcome.get("pending", 0) == 0
            and by_outcome.get("changed", 0) == run.changed
            and by_outcome.get("unchanged", 0) == run.unchanged
            and by_outcome.get("failed", 0) == run.failed,
            f"items={items.count()} by outcome={by_outcome}",
        )

    def _check_no_duplicate_events(self) -> None:
        from shipments.models import TrackingEvent

        duplicates = self.duplicate_events()
        self.report.check(
            "no duplicate events (shipment_id, fingerprint HAVING count(*) > 1 is empty)",
            not duplicates,
            f"{TrackingEvent.objects.count()} events, duplicates: {duplicates[:5]}",
        )

    def check_no_tracebacks(self, *services: Process) -> None:
        for service in services:
            text = service.all_output()
            bad = [
                line for line in text.splitlines() if "Traceback (most recent call last)" in line
            ]
            if service.name == "web":  # gunicorn's access log: `"GET /path HTTP/1.1" 500 ...`
                bad += [
                    line for line in text.splitlines() if re.search(r'HTTP/1\.[01]" 50[0-2] ', line)
                ]
            self.report.check(
                f"{service.name} log has no tracebacks"
                + (" and no 500s" if service.name == "web" else ""),
                not bad,
                f"{len(bad)} found; see {service.log}" if bad else "",
            )


def _seed_store_and_merchants(merchants: int) -> tuple[Any, list[Any]]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from shipments.models import Membership, Store

    store = Store.objects.create(name="Drill Store", slug="drill", time_zone="UTC")
    password = make_password(PASSWORD)  # hashed once: every merchant has the same password
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(username=f"merchant{i:03d}", email=f"m{i}@example.com", password=password)
            for i in range(merchants)
        ]
    )
    users = list(User.objects.filter(username__startswith="merchant").order_by("username"))
    Membership.objects.bulk_create(
        [Membership(user=u, store=store, role=Membership.Role.STAFF) for u in users]
    )
    return store, users


def _unique_numbers(carriers: tuple[str, ...], count: int) -> Iterator[tuple[str, str]]:
    """(carrier, example number) round-robin over `carriers`, no number twice."""
    from shipments.carriers.numbers import example_number

    used: set[tuple[str, str]] = set()
    seed = 0
    for i in range(count):
        carrier = carriers[i % len(carriers)]
        while True:
            number = example_number(carrier, seed)
            seed += 1
            if (carrier, number) not in used:
                break
        used.add((carrier, number))
        yield carrier, number


def _seed_shipments(store: Any, shipments: int, carriers: tuple[str, ...]) -> list[tuple[int, str]]:
    """`shipments` orders of one shipment each, shipped a day ago; (id, carrier) of each."""
    return seed_orders(store, list(_unique_numbers(carriers, shipments)), prefix="D")


def seed_orders(
    store: Any, numbers: list[tuple[str, str]], *, prefix: str
) -> list[tuple[int, str]]:
    """One order (a shopper's address, number `<prefix>000001`…) and one shipment per (carrier,
    number), shipped a day ago, never pulled (status `pending`); (id, carrier) of each."""
    import datetime as dt

    from django.utils import timezone

    from shipments.models import Order, Shipment

    now = timezone.now()
    orders = [
        Order(
            store=store,
            order_number=f"{prefix}{i + 1:06d}",
            customer_email=f"shopper{i}@example.com",
            placed_at=now - dt.timedelta(hours=30),
        )
        for i in range(len(numbers))
    ]
    Order.objects.bulk_create(orders, batch_size=1000)
    order_ids = list(
        Order.objects.filter(store=store).order_by("order_number").values_list("id", flat=True)
    )
    rows = [
        Shipment(
            store=store,
            order_id=order_id,
            carrier=carrier,
            tracking_number=number,
            shipped_at=now - dt.timedelta(hours=24, minutes=i % 600),
            next_sync_at=None,
        )
        for i, (order_id, (carrier, number)) in enumerate(zip(order_ids, numbers, strict=True))
    ]
    Shipment.objects.bulk_create(rows, batch_size=1000)
    return list(Shipment.objects.filter(store=store).order_by("id").values_list("id", "carrier"))


def _runs_dir() -> str:
    path = Path(os.environ.get("DRILL_RUNS_DIR", Path(tempfile.gettempdir()) / "resync-drills"))
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(run: Callable[[Drill], None], drill: Drill) -> int:
    """Run `run(drill)` inside the drill's context and return its exit code."""
    with drill:
        run(drill)
    return drill.exit_code


@contextlib.contextmanager
def background(target: Callable[[threading.Event], None], *, name: str) -> Iterator[None]:
    """Run `target(stop_event)` in a thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def jitter(a: float, b: float) -> float:
    return random.uniform(a, b)
