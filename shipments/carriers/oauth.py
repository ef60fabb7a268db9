"""OAuth client-credentials tokens, cached in Redis so every process reuses one token."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from shipments.kv import RedisError, get_redis

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
