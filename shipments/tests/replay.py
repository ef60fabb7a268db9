"""A local HTTP server that replays canned carrier answers, for adapter tests over real HTTP.

    def test_x(replay):
        replay.add("GET", r"/track/shipments", json={...}, status=200, headers={...})
        replay.url  # http://127.0.0.1:<port>
        replay.requests  # what the adapter sent: method, path, query, headers, body

Rules match in order of registration; a rule with `times=n` is used n times then skipped.
`delay` (seconds) makes the server wait before answering (timeouts).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Rule:
    method: str
    path: re.Pattern[str]
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body or b"null")


class ReplayServer:
    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rule = server._match(self.command, parts.path)
                with server._lock:
                    server.requests.append(
                        Recorded(
                            self.command,
                            parts.path,
                            parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                if rule is None:
                    rule = Rule(self.command, re.compile(".*"), 599, b'{"error":"no rule"}')
                if rule.delay:
                    time.sleep(rule.delay)
                self.send_response(rule.status)
                headers = {"Content-Type": "application/json", **rule.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(rule.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(rule.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | str = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> Rule:
        if json is not None:
            body = jsonlib.dumps(json)
        if isinstance(body, str):
            body = body.encode()
        rule = Rule(method.upper(), re.compile(path), status, body, headers or {}, delay, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def _match(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.method == method and rule.path.search(path):
                    if rule.times is not None:
                        if rule.times <= 0:
                            continue
                        rule.times -= 1
                    return rule
        return None

    def requests_to(self, path_pattern: str) -> list[Recorded]:
        return [r for r in self.requests if re.search(path_pattern, r.path)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    server = ReplayServer()
    yield server
    server.close()


@pytest.fixture
def carrier_api(settings, replay: ReplayServer) -> Callable[..., ReplayServer]:
    """`carrier_api(code, credentials)`: the carrier's API is the `replay` server from now on.

    The carrier's credentials are set (when given) and our own rate limiter is off for it.
    """

    def point(code: str, credentials: dict[str, Any] | None = None) -> ReplayServer:
        settings.CARRIER_API_BASE_URLS = {**settings.CARRIER_API_BASE_URLS, code: replay.url}
        if credentials is not None:
            settings.CARRIER_CREDENTIALS = {**settings.CARRIER_CREDENTIALS, code: credentials}
        settings.CARRIER_RATE_LIMITS = {**settings.CARRIER_RATE_LIMITS, code: 0}
        return replay

    return point
