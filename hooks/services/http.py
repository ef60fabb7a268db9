"""The network half of a delivery: one POST, timeouts, no redirects, no proxies from the
environment, to the address just checked (`hooks.pinning`), and a short snippet of the answer.
Never raises; never touches the database."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
import urllib3
from django.conf import settings

from ..addresses import RefusedURL, check_url
from ..pinning import pinned_session
from ..signing import HEADER, sign

SNIPPET_BYTES = 500
_session: requests.Session | None = None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""
    snippet: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _printable(text: str) -> str:
    """The receiver's text as the log shows it: no NUL or other control characters."""
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")


def session() -> requests.Session:
    """One session per process; `trust_env` off so no proxy variable reroutes a delivery."""
    global _session
    if _session is None:
        _session = requests.Session()
        _session.trust_env = False
    return _session


def post(*, url: str, secret: str, body: bytes, delivery_id: str, event: str) -> Outcome:
    """POST `body` to `url`, signed for this attempt (t = now). The address is checked again
    first (the host may resolve elsewhere than when the endpoint was created), and the POST
    goes to that checked address: a second DNS answer is never asked for."""
    started = time.monotonic()
    allow_private = bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        addresses = check_url(url, allow_private=allow_private)
    except RefusedURL as exc:
        return Outcome(None, elapsed(), error=f"refused: {exc}")
    client = pinned_session(addresses[0]) if addresses else session()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Resync-Webhooks/1.0",
        HEADER: sign(secret=secret, body=body, timestamp=int(time.time())),
        "Resync-Delivery": delivery_id,
        "Resync-Event": event,
    }
    timeout = (settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)
    try:
        with client.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(SNIPPET_BYTES, decode_content=True) or b""
            snippet = _printable(raw.decode("utf-8", "replace"))
            error = ""
            if 300 <= response.status_code < 400:
                error = "redirect not followed"
            return Outcome(response.status_code, elapsed(), error=error, snippet=snippet)
    except (requests.Timeout, urllib3.exceptions.TimeoutError):
        return Outcome(None, elapsed(), error="timed out")
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        return Outcome(None, elapsed(), error=f"connection failed: {type(exc).__name__}")
    finally:
        if addresses:
            client.close()
