"""What every fault drill shares: real processes, a report of PASS/FAIL lines, and cleanup.

A drill owns everything it starts: its own `redis-server` on a free port (nothing on disk), its
own PostgreSQL database (`resync_drill_<name>_<pid>`, dropped at the end) or SQLite file, the
carrier sandbox, gunicorn, Celery worker(s) and beat, each in its own process group so that a
kill reaches the whole tree. Logs stay in the run directory (printed at the end).

The drill process itself sets the same environment and uses the ORM to seed data and to read
what the processes did; it never does the work itself.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import email.utils
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CARRIERS = ("dhl", "ups", "fedex", "usps", "17track", "aftership")
HTTP_TIMEOUT = (3.0, 15.0)  # connect, read: every drill request has a timeout
JSON = {"Accept": "application/json"}
PASSWORD = "drill-password-0"  # noqa: S105 - throwaway merchants in a throwaway database
SANDBOX_CREDENTIALS = {
    "DHL_API_KEY": "drill-dhl-key",
    "UPS_CLIENT_ID": "drill-ups-id",
    "UPS_CLIENT_SECRET": "drill-ups-secret",
    "FEDEX_CLIENT_ID": "drill-fedex-id",
    "FEDEX_CLIENT_SECRET": "drill-fedex-secret",
    "USPS_CLIENT_ID": "drill-usps-id",
    "USPS_CLIENT_SECRET": "drill-usps-secret",
    "SEVENTEENTRACK_API_KEY": "drill-17track-key",
    "AFTERSHIP_API_KEY": "drill-aftership-key",
}
# Variables of the caller's environment that must not leak into the drill's processes.
_FOREIGN = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CARRIER_SANDBOX_URL",
    "DJANGO_SETTINGS_MODULE",
)


class DrillFailed(Exception):
    """A wait ran out or a step could not be done: the drill stops and fails."""


# --- Small utilities ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.2
) -> Any:
    """Poll `predicate` until it is truthy (returned) or `timeout` seconds pass (DrillFailed)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise DrillFailed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """If the drill itself is killed, its direct children get SIGKILL (Linux prctl)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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


# --- Processes --------------------------------------------------------------------------------------


class Service:
    """One real process (and its children) in a process group of its own, logging to a file."""

    def __init__(
        self,
        drill: Drill,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        ready: Callable[[Service], bool],
        ready_timeout: float = 40.0,
        stop_timeout: float = 10.0,
        describe: str = "",
    ) -> None:
        self.drill = drill
        self.describe = describe
        self.name = name
        self.argv = argv
        self.env = env
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.log = drill.run_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        self._spawned_at = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Service:
        return self.spawn().wait_ready()

    def spawn(self) -> Service:
        """Start the process without waiting for it to be ready (see `wait_ready`)."""
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill reaches every child
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - started from the main thread
            )
        self.drill.services.append(self)
        self._spawned_at = time.monotonic()
        return self

    def wait_ready(self) -> Service:
        assert self.proc is not None
        deadline = self._spawned_at + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DrillFailed(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(Exception):
                if self.ready(self):
                    took = time.monotonic() - self._spawned_at
                    what = self.describe or self.name
                    self.drill.report.step(f"{what} ready in {took:.1f}s (pid/pgid {self.pid})")
                    return self
            time.sleep(0.1)
        raise DrillFailed(f"{self.name} not ready after {self.ready_timeout:.0f}s:\n{self.tail()}")

    def output(self) -> str:
        """What the process logged since its last start."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(self._log_start)
            return handle.read().decode(errors="replace")

    def all_output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """`kill -9` the whole process group (main process and every child)."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL what is left after `stop_timeout` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=10)
        # Children that outlived their parent (pool processes) are still in its group (a group
        # id is not reused while the group has members, so these are ours).
        if group_members(self.proc.pid):
            self._signal_group(signal.SIGKILL)


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
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        self.url = f"postgres://{auth}@{self.host}:{self.port}/{self.name}"

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


# --- The carrier sandbox's control API ----------------------------------------------------------


class SandboxControl:
    """Client of `/_sandbox/...` (see shipments/sandbox/control.py)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method, f"{self.url}/_sandbox{path}", json=body, timeout=HTTP_TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def add_event(self, number: str, **fields: Any) -> Any:
        return self._call("POST", f"/numbers/{quote(number, safe='')}/events", fields)

    def fault(self, number: str, kind: str, **kw: Any) -> Any:
        return self._call("POST", f"/numbers/{quote(number, safe='')}/fault", {"kind": kind, **kw})

    def carrier_fault(self, carrier: str, kind: str, **kw: Any) -> Any:
        return self._call("POST", f"/carriers/{carrier}/fault", {"kind": kind, **kw})

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/reset")


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


def arguments(description: str, *, full_n: int | None = None, quick_n: int | None = None):
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
        self.services: list[Service] = []
        self.settings = {str(k): str(v) for k, v in settings.items()}
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.sandbox = SandboxControl(self.sandbox_url)
        self.redis_service: Service | None = None
        self._django_ready = False

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
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # noqa: BLE001 - cleanup goes on whatever happens
                print(f"warning: stopping {service.name}: {exc}", flush=True)
        self.services.clear()
        if self.args.keep_db:
            print(f"kept database {self.db.url}", flush=True)
        else:
            try:
                self.db.drop()
            except Exception as exc:  # noqa: BLE001
                print(f"warning: dropping the database: {exc}", flush=True)

    # --- Environment --------------------------------------------------------------------------

    def env(self, **extra: Any) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        for key in list(env):
            if key.endswith("_API_BASE_URL"):
                del env[key]
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "resync_site.settings",
                "SECRET_KEY": "drill-secret-key-" + "x" * 40,
                "DEBUG": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "0",
                "SESSION_COOKIE_SECURE": "0",
                "CSRF_COOKIE_SECURE": "0",
                "SECURE_HSTS_SECONDS": "0",
                "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
                "WHITENOISE_USE_FINDERS": "1",
                "DATABASE_URL": self.db.url,
                "REDIS_URL": self.redis_url,
                "CELERY_BROKER_URL": self.redis_url,
                "CARRIER_SANDBOX_URL": self.sandbox_url,
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
                **SANDBOX_CREDENTIALS,
            }
        )
        for code in ("DHL", "UPS", "FEDEX", "USPS", "SEVENTEENTRACK", "AFTERSHIP", "SANDBOX"):
            env[f"{code}_RATE_LIMIT"] = "1000"  # the sandbox takes far more than real carriers
        env.update(self.settings)
        env.update({str(k): str(v) for k, v in extra.items()})
        return env

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

    def start_redis(self) -> Service:
        """A Redis of the drill's own: no RDB, no AOF, so a restart comes back empty."""
        redis_bin = shutil.which("redis-server")
        if redis_bin is None:
            raise DrillFailed("redis-server not found (apt-get install redis-server)")
        argv = [
            redis_bin,
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.run_dir),
        ]

        def ready(_: Service) -> bool:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        service = Service(
            self,
            "redis",
            argv,
            env=dict(os.environ),
            ready=ready,
            ready_timeout=10,
            describe=f"redis-server on 127.0.0.1:{self.redis_port} (no RDB/AOF)",
        )
        self.redis_service = service.start()
        return service

    def start_sandbox(self, *, latency_ms: int, wait: bool = True) -> Service:
        epoch = time.strftime("%Y-%m-%dT%H:00:00+00:00", time.gmtime())
        argv = [
            PYTHON,
            "manage.py",
            "carrier_sandbox",
            "--port",
            str(self.sandbox_port),
            "--latency-ms",
            str(latency_ms),
            "--epoch",
            epoch,
        ]

        def ready(_: Service) -> bool:
            return requests.get(f"{self.sandbox_url}/_sandbox/health", timeout=1).ok

        service = Service(
            self,
            "sandbox",
            argv,
            env=self.env(),
            ready=ready,
            describe=f"carrier sandbox on {self.sandbox_url}, latency {latency_ms} ms",
        ).spawn()
        return service.wait_ready() if wait else service

    def migrate(self) -> None:
        self.db.create()
        result = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if result.returncode != 0:
            raise DrillFailed(f"migrate failed:\n{result.stdout}\n{result.stderr}")
        self.report.step(f"database {self.db.kind} {self.db.name} migrated")

    def start_web(self, workers: int = 2, wait: bool = True) -> Service:
        argv = [
            str(BIN / "gunicorn"),
            "resync_site.wsgi",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
        ]

        def ready(_: Service) -> bool:
            return requests.get(f"{self.web_url}/healthz", timeout=2).status_code == 200

        service = Service(
            self,
            "web",
            argv,
            env=self.env(),
            ready=ready,
            describe=f"gunicorn ({workers} workers) on {self.web_url}",
        ).spawn()
        return service.wait_ready() if wait else service

    def start_worker(
        self,
        name: str = "worker",
        concurrency: int = 2,
        wait: bool = True,
        queues: str | None = None,
    ) -> Service:
        argv = [
            str(BIN / "celery"),
            "-A",
            "resync_site",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"drill-{name}-{uuid.uuid4().hex[:6]}@%h",
            *(["--queues", queues] if queues else []),
        ]

        def ready(service: Service) -> bool:
            return " ready." in service.output()

        service = Service(
            self,
            name,
            argv,
            env=self.env(),
            ready=ready,
            stop_timeout=15,
            ready_timeout=60,
            describe=(
                f"celery worker {name!r} (concurrency {concurrency}"
                + (f", queues {queues})" if queues else ", every queue)")
            ),
        ).spawn()
        return service.wait_ready() if wait else service

    def start_beat(self, wait: bool = True) -> Service:
        argv = [str(BIN / "celery"), "-A", "resync_site", "beat", "--loglevel", "INFO"]

        def ready(service: Service) -> bool:
            return "beat: Starting..." in service.output()

        env = self.env()
        service = Service(
            self,
            "beat",
            argv,
            env=env,
            ready=ready,
            describe=(
                f"celery beat (reconciler every {env['RECONCILE_INTERVAL_SECONDS']}s, "
                f"stall after {env['SYNC_RUN_STALL_SECONDS']}s)"
            ),
        ).spawn()
        return service.wait_ready() if wait else service

    def start_stack(
        self, *, latency_ms: int, workers: int = 1, concurrency: int = 2, beat: bool = True
    ) -> dict[str, Service]:
        """Sandbox, web, worker(s) and beat, started at once; returns them once all are ready."""
        services = {
            "sandbox": self.start_sandbox(latency_ms=latency_ms, wait=False),
            "web": self.start_web(wait=False),
        }
        for i in range(workers):
            name = f"worker{i + 1}"
            services[name] = self.start_worker(name, concurrency=concurrency, wait=False)
        if beat:
            services["beat"] = self.start_beat(wait=False)
        for service in services.values():
            service.wait_ready()
        return services

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
        import datetime as dt

        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password
        from django.utils import timezone

        from shipments.carriers.numbers import example_number
        from shipments.models import Membership, Order, Shipment, Store

        now = timezone.now()
        store = Store.objects.create(name="Drill Store", slug="drill", time_zone="UTC")
        password = make_password(PASSWORD)  # hashed once: every merchant has the same password
        User = get_user_model()
        users = User.objects.bulk_create(
            [
                User(username=f"merchant{i:03d}", email=f"m{i}@example.com", password=password)
                for i in range(merchants)
            ]
        )
        users = list(User.objects.filter(username__startswith="merchant").order_by("username"))
        Membership.objects.bulk_create(
            [Membership(user=u, store=store, role=Membership.Role.STAFF) for u in users]
        )
        orders = [
            Order(
                store=store,
                order_number=f"D{i + 1:06d}",
                customer_email=f"shopper{i}@example.com",
                placed_at=now - dt.timedelta(hours=30),
            )
            for i in range(shipments)
        ]
        Order.objects.bulk_create(orders, batch_size=1000)
        order_ids = list(
            Order.objects.filter(store=store).order_by("order_number").values_list("id", flat=True)
        )
        used: set[tuple[str, str]] = set()
        rows = []
        seed = 0
        for i, order_id in enumerate(order_ids):
            carrier = carriers[i % len(carriers)]
            while True:
                number = example_number(carrier, seed)
                seed += 1
                if (carrier, number) not in used:
                    used.add((carrier, number))
                    break
            rows.append(
                Shipment(
                    store=store,
                    order_id=order_id,
                    carrier=carrier,
                    tracking_number=number,
                    shipped_at=now - dt.timedelta(hours=24, minutes=i % 600),
                    next_sync_at=None,
                )
            )
        Shipment.objects.bulk_create(rows, batch_size=1000)
        ids = list(Shipment.objects.filter(store=store).order_by("id").values_list("id", "carrier"))
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
        from django.db.models import Count

        from shipments.models import SyncRunItem

        report = self.report
        run = self.run_row(run_id)
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
        items = SyncRunItem.objects.filter(run_id=run_id)
        by_outcome = dict(items.values_list("outcome").annotate(n=Count("id")).order_by())
        report.check(
            f"{label} items: one per shipment, none pending, outcomes match the counters",
            items.count() == expected_total
            and items.values("shipment_id").distinct().count() == expected_total
            and by_outcome.get("pending", 0) == 0
            and by_outcome.get("changed", 0) == run.changed
            and by_outcome.get("unchanged", 0) == run.unchanged
            and by_outcome.get("failed", 0) == run.failed,
            f"items={items.count()} by outcome={by_outcome}",
        )
        duplicates = self.duplicate_events()
        from shipments.models import TrackingEvent

        report.check(
            "no duplicate events (shipment_id, fingerprint HAVING count(*) > 1 is empty)",
            not duplicates,
            f"{TrackingEvent.objects.count()} events, duplicates: {duplicates[:5]}",
        )
        return run

    def check_no_tracebacks(self, *services: Service) -> None:
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
