"""The sandbox pushes like 17TRACK and AfterShip do: when the control API adds an event to a
number registered through 17TRACK (`register`) or created at AfterShip (`POST /trackings`), the
new state is POSTed, signed, to the app's carrier-push URLs.

Configured at start (`CARRIER_SANDBOX_PUSH_URL`, the app's base URL; the keys the app checks:
`SEVENTEENTRACK_API_KEY`, `AFTERSHIP_WEBHOOK_SECRET`) or by `POST /_sandbox/push` with
`{"url", "seventeentrack_key", "aftership_secret"}` (an empty url turns pushing off). Pushes are
sent from a background thread, so the control call answers at once; the outcome of each is
counted in `/_sandbox/stats` (`pushes`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from shipments.carriers import push as carrier_push

from .formats import aftership, seventeentrack

if TYPE_CHECKING:
    from .app import Sandbox

PATHS = {
    carrier_push.SEVENTEENTRACK: "/webhooks/carriers/17track/",
    carrier_push.AFTERSHIP: "/webhooks/carriers/aftership/",
}


@dataclass(frozen=True)
class PushTarget:
    url: str = ""  # the app's base URL ("" : pushing is off)
    seventeentrack_key: str = ""
    aftership_secret: str = ""

    def secret(self, provider: str) -> str:
        if provider == carrier_push.SEVENTEENTRACK:
            return self.seventeentrack_key
        return self.aftership_secret


class Pusher:
    def __init__(self, target: PushTarget | None = None) -> None:
        self._lock = threading.Lock()
        self.target = target or PushTarget()
        self.counts: Counter[str] = Counter()
        self._session = requests.Session()

    def configure(self, target: PushTarget) -> None:
        with self._lock:
            self.target = target

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def reset_counts(self) -> None:
        """Forget the counts (the target stays: it is configuration, not state)."""
        with self._lock:
            self.counts.clear()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def bodies(self, app: Sandbox, number: str) -> list[tuple[str, dict[str, Any]]]:
        """(provider, body) of each push due for `number` (already filed by `app.key`)."""
        snap = app.snapshot(number)
        if snap is None:
            return []
        out: list[tuple[str, dict[str, Any]]] = []
        key = app.state.registration_17track(number)
        if key is not None:
            item = seventeentrack.render_item(number, key, snap, None)
            out.append((carrier_push.SEVENTEENTRACK, {"event": "TRACKING_UPDATED", "data": item}))
        for slug, created_number, created_at in app.state.aftership_followed(number):
            tracking = aftership.render_tracking(created_number, slug, snap, False, created_at)
            body = {
                "ts": int(time.time()),
                "event": "tracking_update",
                "event_id": str(uuid.uuid4()),
                "is_tracking_first_tag": False,
                "msg": tracking,
            }
            out.append((carrier_push.AFTERSHIP, body))
        return out

    def send(self, provider: str, body: dict[str, Any], target: PushTarget) -> int:
        raw = json.dumps(body).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            carrier_push.SIGNATURE_HEADERS[provider]: carrier_push.sign(
                provider, raw, target.secret(provider)
            ),
        }
        url = target.url.rstrip("/") + PATHS[provider]
        try:
            response = self._session.post(url, data=raw, headers=headers, timeout=(2, 10))
        except requests.RequestException:
            self._count(f"{provider}.error")
            return 0
        self._count(f"{provider}.{response.status_code}")
        return response.status_code

    def notify(self, app: Sandbox, number: str) -> int:
        """Push `number`'s new state to the app (in the background); how many pushes are due."""
        with self._lock:
            target = self.target
        if not target.url:
            return 0
        due = self.bodies(app, number)
        if due:
            threading.Thread(
                target=lambda: [self.send(p, b, target) for p, b in due], daemon=True
            ).start()
        return len(due)
