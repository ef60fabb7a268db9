"""The sandbox as a plain object: routing, latency, stats; no sockets (see `server.py`)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from urllib.parse import unquote

from shipments.carriers.numbers import normalize_tracking_number

from . import control, history
from .formats import aftership, dhl, fedex, native, seventeentrack, ups, usps
from .formats.base import Call, Reply, Request, Route, json_reply
from .push import Pusher, PushTarget
from .state import SandboxState

logger = logging.getLogger("carrier_sandbox")

CARRIER_MODULES = (dhl, ups, fedex, usps, seventeentrack, aftership, native)


def all_routes() -> list[Route]:
    routes: list[Route] = list(control.ROUTES)
    for module in CARRIER_MODULES:
        routes.extend(module.ROUTES)
    return routes


class Sandbox:
    def __init__(
        self,
        *,
        epoch: dt.datetime,
        latency_ms: int = 0,
        clock: Callable[[], float] = time.time,
        push: PushTarget | None = None,
    ) -> None:
        if epoch.tzinfo is None:
            epoch = epoch.replace(tzinfo=dt.UTC)
        self.epoch = epoch.astimezone(dt.UTC)
        self.latency = max(0, latency_ms) / 1000
        self.clock = clock
        self.state = SandboxState()
        self.pusher = Pusher(push)
        self.routes = all_routes()

    @staticmethod
    def key(number: str) -> str:
        """How the sandbox files a number: upper-case, without spaces or dashes."""
        return normalize_tracking_number(number)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(self.clock()), dt.UTC)

    def snapshot(self, number: str) -> history.Snapshot | None:
        key = self.key(number)
        if not key:
            return None
        return history.snapshot(
            key, epoch=self.epoch, now=self.now(), added=self.state.added_events(key)
        )

    def handle(self, request: Request) -> Reply:
        allowed: list[str] = []
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if match is None:
                continue
            if candidate.method != request.method:
                allowed.append(candidate.method)
                continue
            if candidate.carrier is not None:
                self.state.count(candidate.name, candidate.carrier, token=candidate.token)
                if self.latency:
                    time.sleep(self.latency)
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            call = Call(self, request, params, candidate.carrier or "")
            return candidate.handler(call)
        if allowed:
            return json_reply(
                {"error": "method not allowed"}, 405, headers={"Allow": ", ".join(allowed)}
            )
        return json_reply({"error": f"no sandbox route for {request.method} {request.path}"}, 404)
