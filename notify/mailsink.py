"""A local SMTP server that keeps every message as a file (`manage.py mail_sink`, tests).

Development and tests only: it accepts mail for anybody and delivers nothing. `refuse` makes it
answer the next RCPT commands with a given reply ("451 …", "550 …") to exercise the sender's
failure handling.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class MailSink:
    """The aiosmtpd handler: keeps messages in memory and, with `directory`, in .eml files."""

    directory: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    _refusals: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def refuse(self, reply: str, times: int = 1) -> None:
        with self._lock:
            self._refusals.extend([reply] * times)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self._refusals.clear()

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            number = next(self._ids)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
            (self.directory / f"{stamp}-{number:05d}.eml").write_bytes(raw)
        return "250 Message accepted"


def start(handler: MailSink, *, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Serve `handler` in a background thread until `controller.stop()`."""
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    return controller
