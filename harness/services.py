"""The processes of a stack: Redis, a Celery worker and beat, gunicorn, `manage.py` commands.

Each function returns a `Process` not yet started (`.start()` waits until it is ready; `.spawn()`
does not): the caller decides on the environment, the log file and what to tell when ready.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

from harness.ports import HOST, local_url
from harness.processes import PYTHON, ROOT, Process, http_ok, log_contains, tool
from harness.wait import HarnessError


class WebProcess(Process):
    """A process serving HTTP on 127.0.0.1:`port`."""

    def __init__(self, name: str, argv: list[str], *, port: int, **kw: Any) -> None:
        super().__init__(name, argv, **kw)
        self.port = port
        self.url = local_url(port)


def redis_server(port: int, directory: Path, **kw: Any) -> Process:
    """A Redis of its own on `port`: no RDB, no AOF, so a restart comes back empty."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise HarnessError("redis-server not found (apt-get install redis-server)")
    argv = [
        binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
        "--daemonize", "no", "--dir", str(directory),
    ]  # fmt: skip

    def pong(_: Process) -> bool:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    kw.setdefault("ready_timeout", 10)
    return Process(kw.pop("name", "redis"), argv, ready=pong, **kw)


def celery_worker(
    env: dict[str, str],
    *,
    name: str = "worker",
    concurrency: int = 2,
    queues: str | None = None,
    hostname: str = "",
    heartbeat: bool = False,
    **kw: Any,
) -> Process:
    """`celery -A resync_site worker` (no gossip, no mingle), ready once it logs " ready."."""
    argv = [
        tool("celery"), "-A", "resync_site", "worker",
        "--loglevel", "INFO",
        "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle",
        *([] if heartbeat else ["--without-heartbeat"]),
        "--hostname", f"{hostname or name}-{uuid.uuid4().hex[:6]}@%h",
        *(["--queues", queues] if queues else []),
    ]  # fmt: skip
    kw.setdefault("ready_timeout", 60)
    kw.setdefault("stop_timeout", 20)
    return Process(name, argv, env=env, ready=log_contains(" ready."), **kw)


def celery_beat(env: dict[str, str], **kw: Any) -> Process:
    """`celery -A resync_site beat`, ready once it logs that it starts."""
    argv = [tool("celery"), "-A", "resync_site", "beat", "--loglevel", "INFO"]
    return Process(
        kw.pop("name", "beat"), argv, env=env, ready=log_contains("beat: Starting..."), **kw
    )


def gunicorn(
    env: dict[str, str],
    *,
    port: int,
    workers: int = 2,
    options: list[str] | tuple[str, ...] = (),
    ready_path: str = "/healthz",
    **kw: Any,
) -> WebProcess:
    """`gunicorn resync_site.wsgi:application` on 127.0.0.1:`port`, ready once `ready_path`
    answers 200; `options` are further gunicorn flags."""
    argv = [
        tool("gunicorn"), "resync_site.wsgi:application",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        *options,
    ]  # fmt: skip
    ready = http_ok(local_url(port) + ready_path, status=200, timeout=2)
    return WebProcess(kw.pop("name", "web"), argv, port=port, env=env, ready=ready, **kw)


def manage(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python manage.py <args>` to its end (output captured); HarnessError if it fails."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise HarnessError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result
