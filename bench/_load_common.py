"""Shared plumbing of the load benchmarks (bench/tracking_page_load.py, resync_post_latency.py).

A PostgreSQL database of our own (`resync_load`, created, migrated and seeded here, dropped at
the end), Redis database 7 (flushed at the end), gunicorn in its own process group on a free
port, and wrk (Debian's package) driving it with a Lua script that reports p50/p95/p99.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import _common  # the harness on sys.path, py-spy

from harness import env as harness_env
from harness import services
from harness.ports import free_port
from harness.processes import ROOT, Process
from harness.procfs import cpu_seconds, group_cpu_seconds

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", "5432", "postgres"
DB_NAME = "resync_load"
REDIS_DB_URL = "redis://127.0.0.1:6379/7"
LOCK_FILE = Path(tempfile.gettempdir()) / "resync-load-bench.lock"
PROTECTED_DATABASES = {"test", "test_test", "postgres", "template0", "template1"}


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of the server under test: production settings (DEBUG off) over plain
    HTTP on 127.0.0.1, our own database and Redis database, the bench views on."""
    values = {
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": harness_env.postgres_url(DB_NAME, user=PG_USER, host=PG_HOST, port=PG_PORT),
        "REDIS_URL": REDIS_DB_URL,
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "BENCH_VIEWS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    return harness_env.child_env(harness_env.SITE_OVER_HTTP, values, extra)


def argument_parser(description: str, subject: str, *, rounds: bool = False):
    """The options both load benchmarks take; `subject` names what is measured ("the page")."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2 * cores() + 1)
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--warmup", type=float, default=3)
    if rounds:
        parser.add_argument(
            "--rounds", type=int, default=1, help="ceiling/page pairs (median kept)"
        )
    parser.add_argument(
        "--paced", type=float, default=0.5, metavar="SHARE",
        help=f"then {subject} at this share of its req/s (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--py-spy", type=Path, metavar="DIR",
        help=f"then profile {subject} with py-spy (raw stacks saved in DIR)",
    )  # fmt: skip
    parser.add_argument("--no-fail", action="store_true")
    return parser


# --- PostgreSQL and Redis -------------------------------------------------------------------------


def _pg(tool: str, *args: str) -> None:
    assert DB_NAME not in PROTECTED_DATABASES
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    cmd = [tool, "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, *args]
    for attempt in range(6):  # the server is shared: its connection slots may be full a while
        if subprocess.run(cmd, env=env).returncode == 0:
            return
        time.sleep(2 + 3 * attempt)
    raise RuntimeError(f"{' '.join(cmd)} failed")


def create_database() -> None:
    _pg("dropdb", "--if-exists", "--force", DB_NAME)
    _pg("createdb", DB_NAME)


def drop_database() -> None:
    _pg("dropdb", "--if-exists", "--force", DB_NAME)


def flush_redis() -> None:
    """Empty Redis database 7 (ours): cooldowns, rate-limit counters, queued Celery messages."""
    import redis

    redis.Redis.from_url(REDIS_DB_URL).flushdb()


def clear_redis_state() -> int:
    """Between runs: delete cooldowns, rate-limit counters and queued messages in Redis db 7,
    keeping Kombu's exchange bindings (`_kombu.*`, declared once per process by the server)."""
    import redis

    client = redis.Redis.from_url(REDIS_DB_URL)
    keys = [k for k in client.scan_iter(count=1000) if not k.startswith(b"_kombu.")]
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])
    return len(keys)


def manage(env: dict[str, str], *args: str) -> None:
    services.manage(env, *args)


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process with the server's settings (for seeding)."""
    os.environ.update(env)
    import django

    django.setup()


def analyze() -> None:
    """Planner statistics after bulk seeding, as a database in service would have them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def close_django() -> None:
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()


@contextlib.contextmanager
def database(env: dict[str, str]) -> Iterator[None]:
    """Our own database, migrated, for the duration; Redis db 7 empty before and after. One
    benchmark at a time: both scripts share the database name and the Redis database."""
    lock = open(LOCK_FILE, "w")  # noqa: SIM115 (held for the whole benchmark)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another load benchmark is running (lock {LOCK_FILE})") from None
    create_database()
    flush_redis()
    try:
        manage(env, "migrate", "--noinput")
        yield
    finally:
        close_django()
        flush_redis()
        drop_database()
        lock.close()


def wsgi_environ(path: str, method: str = "GET", **headers: str) -> dict[str, object]:
    """A minimal WSGI request from 127.0.0.1 (headers as `HTTP_*` keys)."""
    import io

    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        **headers,
    }


def wsgi_cpu_ms(
    environ: Callable[[], dict[str, object]],
    *,
    status: int = 200,
    number: int = 200,
    repeat: int = 5,
) -> float:
    """CPU milliseconds one request costs Django in this process (the WSGI app called directly,
    one thread, best of `repeat` rounds of `number`): the code's own cost, without HTTP, gunicorn
    or the scheduling noise of a shared machine. Needs `setup_django()` first."""
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    expected = f"{status} "

    def call() -> None:
        answer: list[str] = []
        b"".join(app(environ(), lambda s, h, *a: answer.append(s)))  # type: ignore[arg-type]
        if not answer[0].startswith(expected):
            raise RuntimeError(f"in-process request answered {answer[0]}, not {status}")

    for _ in range(min(number, 50)):
        call()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            call()
        best = min(best, (time.process_time() - start) / number)
    return 1000 * best


# --- gunicorn -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int
    worker_class: str

    def describe(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"gunicorn -k {self.worker_class} -w {self.workers}{threads}"


def gunicorn_server(config: ServerConfig, env: dict[str, str], log: Path) -> Process:
    """`gunicorn resync_site.wsgi` (the harness's) on a free port, in its own process group;
    `.start()` waits for /healthz, `stop()` (or leaving a `with` block) ends the whole group."""
    options = ["--worker-class", config.worker_class, "--backlog", "2048", "--log-level", "warning"]
    if config.worker_class == "gthread":
        options += ["--threads", str(config.threads)]
    return services.gunicorn(
        env, port=free_port(), workers=config.workers, options=options, log=log
    )


def postgres_cpu_by_pid() -> dict[str, float]:
    """utime + stime of each PostgreSQL backend connected to our database right now."""
    query = (
        f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
    )
    result = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", DB_NAME, "-Atc", query],
        capture_output=True,
        text=True,
    )
    if result.returncode:  # e.g. no connection slot left: report 0 rather than fail the run
        return {}
    return {pid: cpu_seconds(pid) for pid in result.stdout.split() if Path(f"/proc/{pid}").exists()}


class CpuMeter:
    """Server-side CPU seconds spent between `start()` and `stop()`: gunicorn's process group
    and our database's PostgreSQL backends. A second view beside requests/s, which also counts
    wrk's own CPU; on a machine shared with other work both move, CPU per request less so."""

    def __init__(self, gunicorn_pgid: int) -> None:
        self.pgid = gunicorn_pgid
        self.app = self.db = 0.0

    def start(self) -> None:
        self._app0 = group_cpu_seconds(self.pgid)
        self._db0 = postgres_cpu_by_pid()

    def stop(self) -> None:
        self.app = group_cpu_seconds(self.pgid) - self._app0
        after = postgres_cpu_by_pid()
        self.db = sum(v - self._db0.get(pid, 0.0) for pid, v in after.items())


# --- py-spy ---------------------------------------------------------------------------------------


class PySpy:
    """`py-spy record` of gunicorn's workers (on-CPU samples only) while a run lasts; `summary()`
    lists where the time goes. py-spy is a profiling aid: `pip install py-spy` into .venv."""

    def __init__(self, pid: int, output: Path, rate: int = 250) -> None:
        self.output = output
        if not (
            shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        ):
            raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
        self.recorder = _common.py_spy_record(pid, output, rate=rate, subprocesses=True)

    def __enter__(self) -> PySpy:
        self.recorder.spawn()
        time.sleep(1.0)  # attach to every worker before the load starts
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.stop()  # SIGINT: py-spy writes its output

    def summary(self, top: int = 25) -> str:
        """Top functions by inclusive share of samples (project and Django frames)."""
        inclusive: dict[str, int] = {}
        own: dict[str, int] = {}
        total = 0
        for line in self.output.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [
                _short_frame(f)
                for f in stack.split(";")
                if not f.startswith(("process ", "thread "))  # py-spy's own labels
            ]
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + n
        if not total:
            return "  (no samples)"
        lines = [f"  {total} samples; inclusive % / self % of on-CPU samples:"]
        ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
        for frame, n in [kv for kv in ranked if _interesting(kv[0])][:top]:
            lines.append(
                f"  {100 * n / total:5.1f} {100 * own.get(frame, 0) / total:5.1f}  {frame}"
            )
        return "\n".join(lines)


def _short_frame(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; drop the line number.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def _interesting(frame: str) -> bool:
    return not any(
        skip in frame
        for skip in ("deprecation.py", "exception.py", "<module>", "threading.py", "gthread.py")
    )


# --- wrk ------------------------------------------------------------------------------------------

# Counts answers by status (the expected one apart) in each thread and prints one summary line
# with the percentiles wrk's own --latency table lacks (p95). Optional: a file of paths, each
# requested once, spread over the threads (thread k takes paths k, k+n, k+2n, ...).
WRK_LUA = r"""
local threads = {}
local counter = 1
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local expected, nthreads, paths, index = 200, 1, nil, 1
ok, other, other_status, wrapped = 0, 0, 0, 0
function init(args)
  expected = tonumber(args[1]) or 200
  nthreads = tonumber(args[2]) or 1
  if args[3] and args[3] ~= "" then
    paths = {}
    for line in io.lines(args[3]) do paths[#paths + 1] = line end
    index = id
  end
end

if os.getenv("BENCH_WRK_METHOD") == "POST" then
  wrk.method = "POST"
  wrk.body = ""
end

function request()
  if paths == nil then return wrk.format() end
  local path = paths[index]
  index = index + nthreads
  if index > #paths then index = id; wrapped = wrapped + 1 end
  return wrk.format(nil, path)
end

local pause = tonumber(os.getenv("BENCH_WRK_DELAY_MS") or "")
if pause and pause > 0 then
  -- Paced load: each connection waits between requests (offered rate ~ connections / pause).
  function delay() return pause end
end

function response(status, headers, body)
  if status == expected then ok = ok + 1 else other = other + 1; other_status = status end
end

function done(summary, latency, requests)
  local n_ok, n_other, last_other, n_wrapped = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    n_ok = n_ok + t:get("ok")
    n_other = n_other + t:get("other")
    n_wrapped = n_wrapped + t:get("wrapped")
    if t:get("other_status") ~= 0 then last_other = t:get("other_status") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH-RESULT requests=%d duration_us=%d ok=%d other=%d other_status=%d wrapped=%d " ..
    "connect=%d read=%d write=%d timeout=%d p50=%d p95=%d p99=%d max=%d mean=%.1f\n",
    summary.requests, summary.duration, n_ok, n_other, last_other, n_wrapped,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class WrkResult:
    label: str
    command: str
    requests: int
    seconds: float
    ok: int
    other: int
    other_status: int
    wrapped: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    app_cpu_s: float = 0.0
    db_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per request: gunicorn and PostgreSQL."""
        return self.app_cpu_ms + self.db_cpu_ms

    @property
    def app_cpu_ms(self) -> float:
        """gunicorn CPU milliseconds per request."""
        return 1000 * self.app_cpu_s / self.requests if self.requests else 0.0

    @property
    def db_cpu_ms(self) -> float:
        """PostgreSQL CPU milliseconds per request."""
        return 1000 * self.db_cpu_s / self.requests if self.requests else 0.0


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit(
            "wrk is not installed: `apt-get install -y wrk` (Debian package), then run again."
        )
    return path


def wrk_command(
    url: str, script: Path, *, threads: int, connections: int, seconds: float, timeout_s: int,
    headers: dict[str, str] | None, paths_file: Path | None, expected: int,
) -> list[str]:  # fmt: skip
    cmd = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_s}s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    return cmd + ["-s", str(script), url, "--", str(expected), str(threads), str(paths_file or "")]


def parse_wrk(label: str, command: str, out: str, meter: CpuMeter | None) -> WrkResult:
    """The BENCH-RESULT line the Lua script printed."""
    match = re.search(r"^BENCH-RESULT (.*)$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    v = {k: float(x) for k, x in (kv.split("=") for kv in match.group(1).split())}
    return WrkResult(
        label=label,
        command=command,
        requests=int(v["requests"]),
        seconds=v["duration_us"] / 1e6,
        ok=int(v["ok"]),
        other=int(v["other"]),
        other_status=int(v["other_status"]),
        wrapped=int(v["wrapped"]),
        socket_errors=int(v["connect"] + v["read"] + v["write"] + v["timeout"]),
        p50_ms=v["p50"] / 1000,
        p95_ms=v["p95"] / 1000,
        p99_ms=v["p99"] / 1000,
        max_ms=v["max"] / 1000,
        app_cpu_s=meter.app if meter else 0.0,
        db_cpu_s=meter.db if meter else 0.0,
    )


def run_wrk(
    label: str,
    url: str,
    *,
    threads: int = 2,
    connections: int = 50,
    seconds: float = 15,
    expected: int = 200,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    paths_file: Path | None = None,
    timeout_s: int = 10,
    server: Process | None = None,
    rate: float = 0.0,
) -> WrkResult:
    """One wrk run. `rate`: pace the connections to about this many requests/s in all (wrk's
    `delay()`: each connection pauses connections/rate seconds between its requests), so the
    latency is measured below saturation instead of at it."""
    with tempfile.TemporaryDirectory(prefix="resync-wrk-") as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(WRK_LUA)
        cmd = wrk_command(
            url, script, threads=threads, connections=connections, seconds=seconds,
            timeout_s=timeout_s, headers=headers, paths_file=paths_file, expected=expected,
        )  # fmt: skip
        env = dict(os.environ, BENCH_WRK_METHOD=method)
        if rate > 0:
            env["BENCH_WRK_DELAY_MS"] = str(max(1, round(1000 * connections / rate)))
        meter = CpuMeter(server.pid) if server and server.pid else None
        if meter:
            meter.start()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        if meter:
            meter.stop()
    shown = " ".join(repr(c) if " " in c else c for c in cmd[: cmd.index("-s")])
    command = f"{shown} {url}" + (" (-s paths.lua: one path per request)" if paths_file else "")
    return parse_wrk(label, command, out, meter)


def print_results(results: list[WrkResult]) -> None:
    print(
        f"{'':<34} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'ok':>7} {'other':>6} {'sock err':>8} {'app CPU ms/req':>14} {'db CPU ms/req':>13}"
    )
    for r in results:
        print(
            f"{r.label:<34} {r.rps:8.0f} {r.p50_ms:7.1f} {r.p95_ms:7.1f} {r.p99_ms:7.1f}"
            f" {r.max_ms:7.1f} {r.ok:7d} {r.other:6d} {r.socket_errors:8d}"
            f" {r.app_cpu_ms:14.2f} {r.db_cpu_ms:13.2f}"
        )
        if r.other:
            print(
                f"{'':<34} ! {r.other} answers were not the expected status (e.g. {r.other_status})"
            )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
