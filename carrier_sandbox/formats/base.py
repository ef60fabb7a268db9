"""What every carrier format module shares: the request/reply types, routes and fault handling."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..history import Snapshot
from ..state import Fault, Triggered

if TYPE_CHECKING:
    from ..app import Sandbox


class BadBody(ValueError):
    """The request body is not the JSON (or form) the route expects."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # case-insensitive (an `email.message.Message`)
    body: bytes = b""

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadBody(str(exc)) from None

    def form(self) -> dict[str, str]:
        """A url-encoded body (or, leniently, a JSON object) as a flat dict."""
        content_type = self.header("Content-Type").lower()
        if "json" in content_type:
            data = self.json()
            if not isinstance(data, dict):
                raise BadBody("expected a JSON object")
            return {str(k): str(v) for k, v in data.items() if v is not None}
        try:
            parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            raise BadBody("body is not UTF-8") from None
        return {k: v[0] for k, v in parsed.items()}

    def bearer(self) -> str:
        scheme, _, value = self.header("Authorization").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    def basic(self) -> tuple[str, str] | None:
        scheme, _, value = self.header("Authorization").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(
    data: Any,
    status: int = 200,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Reply:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, {"Content-Type": content_type, **(headers or {})})


@dataclass
class Call:
    """One matched request, as a route handler sees it."""

    app: Sandbox
    request: Request
    params: dict[str, str]
    carrier: str

    def snapshot(self, number: str) -> Snapshot | None:
        return self.app.snapshot(number)

    def guard(
        self, numbers: list[str], on_fault: Callable[[Call, Fault], Reply]
    ) -> Triggered | Reply:
        """Count the numbers asked about and apply matching faults.

        Returns the reply to send instead (500, 429) or what to do per number.
        """
        self.app.state.count_numbers(self.carrier, len(numbers))
        keys = [self.app.key(n) for n in numbers]
        triggered = self.app.state.trigger(self.carrier, keys)
        if triggered.hang_seconds:
            time.sleep(triggered.hang_seconds)
        if triggered.error is not None:
            reply = on_fault(self, triggered.error)
            if triggered.error.kind == "rate_limit":
                reply.headers["Retry-After"] = triggered.error.retry_after
            return reply
        return triggered

    def lookup(self, number: str, triggered: Triggered) -> Snapshot | None:
        """The snapshot of a number unless it is unknown (by number or by fault)."""
        if triggered.is_unknown(self.app.key(number)):
            return None
        return self.snapshot(number)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    carrier: str | None  # None: the control API (no latency, not counted)
    name: str
    token: bool = False  # an OAuth token endpoint


def route(
    method: str, path: str, handler: Handler, carrier: str | None, name: str, *, token: bool = False
) -> Route:
    """`path` with `{name}` placeholders matching one path segment."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}/?$"), handler, carrier, name, token)


# --- Time formats -------------------------------------------------------------------------------


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with the offset, to the second: `2025-03-04T09:12:00+01:00`."""
    return moment.replace(microsecond=0).isoformat()


def iso_z(moment: dt.datetime) -> str:
    """UTC with a `Z`: `2025-03-04T08:12:00Z`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_naive(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def offset(moment: dt.datetime) -> str:
    """`+01:00` / `-05:00`."""
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}" if text else "+00:00"


def numbers_arg(value: str | None) -> list[str]:
    """`A,B , C` → ["A", "B", "C"] (empty items dropped, order kept, duplicates dropped)."""
    items = [part.strip() for part in (value or "").split(",")]
    return list(dict.fromkeys(item for item in items if item))
