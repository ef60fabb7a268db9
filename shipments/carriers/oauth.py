"""OAuth client-credentials tokens, cached in Redis so every process reuses one token.

`TokenHolder` is the token of one `track` call (UPS, FedEx, USPS): a refused token (401/403,
`InvalidCredentials`) is replaced once, however many requests saw it refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from django.conf import settings

from shipments.redis_client import RedisError, get_redis

from . import http
from .base import CarrierError, CarrierUnavailable, InvalidCredentials
from .parsing import scalar_text

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# Refresh this many seconds before the carrier says the token expires.
EXPIRY_MARGIN_SECONDS = 60


def _key(carrier: str, base_url: str, client_id: str) -> str:
    digest = hashlib.sha256(f"{base_url}\x1f{client_id}".encode()).hexdigest()[:16]
    return f"resync:carrier:{carrier}:token:{digest}"


def get_token(
    carrier: str,
    *,
    base_url: str,
    client_id: str,
    fetch: Callable[[], tuple[str, float]],
) -> str:
    """The cached token, or a new one from `fetch() -> (access_token, expires_in_seconds)`.

    Redis being down never blocks tracking: the token is then fetched and used uncached.
    """
    key = _key(carrier, base_url, client_id)
    try:
        cached = get_redis().get(key)
    except RedisError:
        cached = None
    if cached:
        return cached
    token, expires_in = fetch()
    ttl = int(expires_in - EXPIRY_MARGIN_SECONDS)
    if ttl > 0:
        with contextlib.suppress(RedisError):
            get_redis().set(key, token, ex=ttl)
    return token


def forget_token(carrier: str, *, base_url: str, client_id: str) -> None:
    """Drop a token the carrier refused (401), so the next call fetches a fresh one."""
    with contextlib.suppress(RedisError):
        get_redis().delete(_key(carrier, base_url, client_id))


def client_credentials(carrier: str) -> tuple[str, str]:
    """`(client_id, client_secret)` from `CARRIER_CREDENTIALS`; `InvalidCredentials` if unset."""
    credentials = settings.CARRIER_CREDENTIALS.get(carrier) or {}
    client_id = scalar_text(credentials.get("client_id"))
    client_secret = scalar_text(credentials.get("client_secret"))
    if not client_id or not client_secret:
        raise InvalidCredentials(f"{carrier}: no client credentials configured", carrier=carrier)
    return client_id, client_secret


def expires_in(body: Any) -> float:
    """A token answer's `expires_in` in seconds (number or string); 0 (used once) if unreadable."""
    try:
        return float(body.get("expires_in") or 0)
    except (TypeError, ValueError):
        return 0.0


def read_token(carrier: str, body: Any) -> tuple[str, float]:
    """`(access_token, expires_in)` from a 200 token answer; `CarrierUnavailable` without one."""
    token = scalar_text(body.get("access_token")) if isinstance(body, Mapping) else ""
    if not token:
        raise CarrierUnavailable(f"{carrier}: token response without access_token", carrier=carrier)
    return token, expires_in(body)


class TokenHolder:
    """The bearer token shared by the threads of one `track` call; refreshed once per refusal.

    The token comes from `get_token` (Redis-cached) when the holder is made. `generation` counts
    refreshes, so requests that saw the same token refused cause one refresh between them, even
    when the carrier hands out the same token string again.
    """

    def __init__(
        self,
        carrier: str,
        *,
        base_url: str,
        client_id: str,
        fetch: Callable[[], tuple[str, float]],
    ) -> None:
        self._carrier = carrier
        self._base_url = base_url
        self._client_id = client_id
        self._fetch = fetch
        self._lock = threading.Lock()
        self.generation = 0
        self.token = self._get()

    def _get(self) -> str:
        return get_token(
            self._carrier, base_url=self._base_url, client_id=self._client_id, fetch=self._fetch
        )

    def current(self) -> tuple[str, int]:
        with self._lock:
            return self.token, self.generation

    def refresh(self, refused_generation: int) -> str:
        """A fresh token after the one of `refused_generation` was refused."""
        with self._lock:
            if self.generation == refused_generation:
                forget_token(self._carrier, base_url=self._base_url, client_id=self._client_id)
                self.token = self._get()
                self.generation += 1
            return self.token

    def call(self, func: Callable[[str], T]) -> T:
        """`func(token)`; refused (`InvalidCredentials`), once more with a refreshed token.

        For one request at a time: the retry follows at once, in the same thread.
        """
        token, generation = self.current()
        try:
            return func(token)
        except InvalidCredentials:
            return func(self.refresh(generation))

    def fan_out(self, func: Callable[[str, K], T], items: Iterable[K]) -> dict[K, T | CarrierError]:
        """`http.fan_out` of `func(token, item)`; the refused items are retried together.

        After every item had its answer, those refused (`InvalidCredentials`) are sent again
        with one refreshed token. A failure to get that token is raised (it concerns the call).
        """
        token, generation = self.current()
        outcomes = dict(http.fan_out(partial(func, token), items))
        refused = [
            item for item, outcome in outcomes.items() if isinstance(outcome, InvalidCredentials)
        ]
        if refused:
            # The cached token may have been revoked or expired early: one fresh token, one retry.
            retry = partial(func, self.refresh(generation))
            outcomes.update(http.fan_out(retry, refused))
        return outcomes
