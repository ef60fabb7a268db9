"""Log context: the store, shipment or run a line concerns, on every line, in web and workers."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

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


LINE_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s [%(context)s] %(message)s"


def logging_config(level: str) -> dict[str, Any]:
    """`LOGGING` for the settings: one format for web and workers, to stderr, with the context."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "resync_site.logging.ContextFilter"},
            "one_line": {"()": "resync_site.logging.OneLineFilter"},
        },
        "formatters": {
            "standard": {
                "format": LINE_FORMAT,
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "standard",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "celery": {"level": level},
            # A bad Host header or an oversized body is a plain 400: one line, no traceback. (A
            # logger's filters see only its own records, so each of Django's is named.)
            **{
                f"django.security.{name}": {"filters": ["one_line"]}
                for name in (
                    "DisallowedHost",
                    "DisallowedRedirect",
                    "RequestDataTooBig",
                    "TooManyFieldsSent",
                    "TooManyFilesSent",
                    "SuspiciousFileOperation",
                    "SuspiciousMultipartForm",
                    "SuspiciousOperation",
                    "SuspiciousSession",
                )
            },
        },
    }
