"""A real process in a process group of its own: started, waited for, stopped as a whole.

    proc = Process("worker", argv, env=env, log=path, ready=log_contains(" ready.")).start()
    proc.output()        # what it logged since this start
    proc.kill()          # SIGKILL to the whole group (main process and every child)
    proc.stop()          # SIGTERM to the group, SIGKILL after `stop_timeout`, then leftovers

`Processes` owns several and stops them all, last started first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import requests

from harness.procfs import group_members
from harness.wait import HarnessError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv's bin/: celery, gunicorn, py-spy
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable

Ready = Callable[["Process"], Any]


def tool(name: str) -> str:
    """A program of the virtualenv (celery, gunicorn, …), else the name for PATH."""
    path = BIN / name
    return str(path) if path.exists() else name


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """If the parent is killed, its direct children get SIGKILL (Linux prctl)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# --- Readiness probes -----------------------------------------------------------------------------


def http_ok(url: str, *, status: int | None = None, timeout: float = 1.0) -> Ready:
    """Ready once GET `url` answers 2xx (or exactly `status`)."""

    def probe(_: Process) -> bool:
        response = requests.get(url, timeout=timeout)
        return response.status_code == status if status is not None else response.ok

    return probe


def log_contains(text: str) -> Ready:
    """Ready once the process has logged `text` since its start."""
    return lambda process: text in process.output()


# --- The process ----------------------------------------------------------------------------------


class Process:
    """One command in its own session (process group); its output goes to `log` (a file, or a
    temporary file when None). `ready(process)` is polled after the start (exceptions count as
    not ready); `on_ready(process, seconds)` is told when it is."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        ready: Ready | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        die_with_parent: bool = False,
        truncate_log: bool = False,
        describe: str = "",
        on_ready: Callable[[Process, float], None] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(os.environ) if env is None else env
        self.log = log
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self.truncate_log = truncate_log
        self.describe = describe or name
        self.on_ready = on_ready
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None
        self._temp: IO[bytes] | None = None if log else tempfile.TemporaryFile()  # noqa: SIM115
        self._log_start = 0
        self._spawned_at = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    alive = running

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Start ------------------------------------------------------------------------------

    def start(self) -> Process:
        return self.spawn().wait_ready()

    def spawn(self) -> Process:
        """Start the process without waiting for it to be ready (see `wait_ready`)."""
        if self._temp is not None:
            self._temp.seek(0, os.SEEK_END)
            self._log_start = self._temp.tell()
            self._popen(self._temp)
        else:
            assert self.log is not None
            self.log.parent.mkdir(parents=True, exist_ok=True)
            mode = "wb" if self.truncate_log else "ab"
            self._log_start = (
                0 if mode == "wb" or not self.log.exists() else self.log.stat().st_size
            )
            with self.log.open(mode) as handle:
                self._popen(handle)
        self._spawned_at = time.monotonic()
        return self

    def _popen(self, handle: IO[bytes]) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a signal reaches every child
            preexec_fn=_die_with_parent if self.die_with_parent else None,  # noqa: PLW1509
        )

    def wait_ready(self) -> Process:
        """Poll `ready` until it holds; stop the process and raise HarnessError if it exits or
        `ready_timeout` (from the spawn) passes first."""
        assert self.proc is not None
        deadline = self._spawned_at + self.ready_timeout
        while self.ready is not None:
            if self.proc.poll() is not None:
                self._fail(f"{self.name} exited ({self.proc.returncode})")
            with contextlib.suppress(Exception):
                if self.ready(self):
                    break
            if time.monotonic() >= deadline:
                self._fail(f"{self.name} not ready after {self.ready_timeout:.0f}s")
            time.sleep(0.1)
        if self.on_ready is not None:
            self.on_ready(self, time.monotonic() - self._spawned_at)
        return self

    def _fail(self, message: str) -> None:
        tail = self.tail()
        self.stop()
        where = f" (log {self.log})" if self.log else ""
        raise HarnessError(f"{message}{where}:\n{tail}")

    # --- Output -----------------------------------------------------------------------------

    def _read(self, start: int) -> str:
        if self._temp is not None:
            self._temp.seek(start)
            data = self._temp.read()
        elif self.log is not None and self.log.exists():
            with self.log.open("rb") as handle:
                handle.seek(start)
                data = handle.read()
        else:
            data = b""
        return data.decode(errors="replace")

    def output(self) -> str:
        """What the process logged since its last start."""
        return self._read(self._log_start)

    def all_output(self) -> str:
        """Everything in the log, earlier starts included."""
        return self._read(0)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    # --- Stop -------------------------------------------------------------------------------

    def signal_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float) -> bool:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """`kill -9` the whole process group (main process and every child)."""
        if self.proc is not None:
            self.signal_group(signal.SIGKILL)
            self.wait(10)

    def stop(self, timeout: float | None = None) -> None:
        """`stop_signal` (SIGTERM) to the group, SIGKILL it if the main process is still there
        after `timeout` (default `stop_timeout`) seconds, then SIGKILL what is left of the group
        (children that outlived their parent: a group id is not reused while it has members, so
        they are ours)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.signal_group(self.stop_signal)
            if not self.wait(self.stop_timeout if timeout is None else timeout):
                self.kill()
        if group_members(self.proc.pid):
            self.signal_group(signal.SIGKILL)


class Processes:
    """Owns the processes started through it; `stop_all` (and leaving the `with` block) stops
    them, last started first."""

    def __init__(self) -> None:
        self.started: list[Process] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def spawn(self, process: Process) -> Process:
        self.started.append(process)
        return process.spawn()

    def start(self, process: Process) -> Process:
        return self.spawn(process).wait_ready()

    def stop(self, process: Process) -> None:
        if process in self.started:
            self.started.remove(process)
        process.stop()

    def stop_all(self, on_error: Callable[[Process, Exception], None] | None = None) -> None:
        while self.started:
            process = self.started.pop()
            try:
                process.stop()
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(process, exc)
