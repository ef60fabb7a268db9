"""Log context: the store, shipment or run a line concerns, on every line, in web and workers."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "resync_log_context", default=None
)


@contextlib.contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Tag every log line inside the block with the given ids (e.g. store=3, run=12)."""
    merged = {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds `%(context)s`: `store=3 run=12`, or `-` when a line concerns nothing in particular."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get() or {}
        record.context = " ".join(f"{k}={v}" for k, v in ctx.items()) or "-"
        return True


class OneLineFilter(logging.Filter):
    """Drops the traceback of a record: for refusals that are the client's fault (Django's
    `django.security.*` lines for a bad Host header or an oversized body), the message says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
