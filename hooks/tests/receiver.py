"""A real HTTP receiver for webhook tests: `http.server` in a thread on a free port.

receiver.url                 # http://127.0.0.1:<port>/hook
receiver.answers = [500, 500, 200]   # status per request, then 200
receiver.requests            # [Received(headers, body, at)]
receiver.verify(secret, r)   # what a merchant's receiver does with Resync-Signature
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hooks.signing import verify


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = receiver.answers.pop(0) if receiver.answers else 200
                payload = b'{"ok": true}' if status < 300 else b"receiver is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def verify(secret: str, request: Received) -> bool:
        return verify(
            secret=secret,
            body=request.body,
            header=request.headers.get("Resync-Signature", ""),
            now=int(time.time()),
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_urls_allowed(settings) -> None:
    """The receiver listens on 127.0.0.1: let endpoints point there for this test."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
