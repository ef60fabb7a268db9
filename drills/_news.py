"""What `news_out.py` needs beside the shared drill code: an SMTP sink and a webhook receiver in
the drill process, each noting when every message arrived, and shipments whose carrier history
is known to enter a status shoppers are told about.

The sinks only note what arrived; the drill compares that with the database at the end.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

# A number is used only if its sandbox history gets no new event this long after it was picked:
# a shipment pulled twice (the chunk of a killed worker) then sees the same history both times.
STABLE_FOR = dt.timedelta(minutes=45)


@dataclass
class Arrivals:
    """Keys (Message-ID or delivery id) in the order they arrived, with the time of each."""

    times: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, key: str) -> None:
        with self.lock:
            self.keys.append(key)
            self.times.append(time.time())

    def count(self) -> int:
        with self.lock:
            return len(self.keys)

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.keys)

    def span(self) -> tuple[float, float] | None:
        with self.lock:
            return (min(self.times), max(self.times)) if self.times else None


class MailCatcher:
    """aiosmtpd on 127.0.0.1:`port`, accepting every message; keeps Message-ID, To and time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.arrivals = Arrivals()
        self.to_of: dict[str, str] = {}
        self.unreadable = 0
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID", "")).strip()
        if not message_id:
            self.unreadable += 1
        else:
            self.to_of[message_id] = str(message.get("To", ""))
            self.arrivals.note(message_id)
        return "250 Message accepted"


class HookReceiver:
    """A threaded `http.server` answering 200 to every POST; checks each signature with the
    endpoint's secret (set once the endpoint exists) and that the body's id is the header's."""

    def __init__(self) -> None:
        self.arrivals = Arrivals()
        self.secret = ""
        self.bad: list[str] = []  # why a request was not a valid delivery
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.receive(dict(self.headers.items()), body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/resync-hooks"

    def start(self) -> HookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        from hooks.signing import verify

        delivery_id = headers.get("Resync-Delivery", "")
        signed = verify(
            secret=self.secret,
            body=body,
            header=headers.get("Resync-Signature", ""),
            now=int(time.time()),
        )
        try:
            body_id = json.loads(body).get("id", "")
        except ValueError:
            body_id = None
        if not signed or body_id != delivery_id:
            with self.arrivals.lock:
                self.bad.append(f"{delivery_id or '?'}: signed={signed} body id={body_id!r}")
            return
        self.arrivals.note(delivery_id)


def stable_numbers(
    carriers: tuple[str, ...], count: int, *, epoch: dt.datetime, notifiable: frozenset[str]
) -> list[tuple[str, str]]:
    """(carrier, number) round-robin over `carriers`, no number twice, each of whose sandbox
    history is in a status in `notifiable` now and gets no new event for `STABLE_FOR`."""
    from carrier_sandbox.history import snapshot
    from shipments.carriers.numbers import example_number

    now = dt.datetime.now(dt.UTC)
    picked: list[tuple[str, str]] = []
    used: set[tuple[str, str]] = set()
    seed = 0
    while len(picked) < count:
        carrier = carriers[len(picked) % len(carriers)]
        number = example_number(carrier, seed)
        seed += 1
        if (carrier, number) in used:
            continue
        used.add((carrier, number))
        at_start = snapshot(number, epoch=epoch, now=now)
        later = snapshot(number, epoch=epoch, now=now + STABLE_FOR)
        if at_start is None or later is None or at_start.status not in notifiable:
            continue
        if len(at_start.events) != len(later.events):
            continue
        picked.append((carrier, number))
    return picked
