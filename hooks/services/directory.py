"""Which stores have webhook endpoints, answered from Redis so that the apply service's
transaction pays no query for the (usual) stores without any.

The set only grows: a store is added whenever one of its endpoints is saved active (at once,
before any commit, so a change never misses a new endpoint), and the periodic dispatcher adds
every store with an active endpoint again (what a Redis restart lost comes back within one beat
interval). A store that no longer has endpoints stays in it and costs one query per change
batch, which finds nothing. When Redis does not answer, the database decides.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from shipments.redis_client import RedisError, get_redis

from ..models import WebhookEndpoint

logger = logging.getLogger(__name__)

KEY = "resync:hooks:endpoint-stores"


def endpoint_store_add(*, store_id: int) -> None:
    try:
        get_redis().sadd(KEY, store_id)
    except RedisError:
        logger.warning("webhook store directory not updated: Redis unavailable")


def endpoint_stores_refresh() -> None:
    """Add every store with an active endpoint (never removes: see the module's note)."""
    ids = list(
        WebhookEndpoint.objects.filter(is_active=True).values_list("store_id", flat=True).distinct()
    )
    if not ids:
        return
    try:
        get_redis().sadd(KEY, *ids)
    except RedisError:
        logger.warning("webhook store directory not refreshed: Redis unavailable")


def stores_maybe_with_endpoints(store_ids: Iterable[int]) -> set[int] | None:
    """The given stores that may have endpoints; None when Redis cannot say."""
    ids = sorted(set(store_ids))
    if not ids:
        return set()
    try:
        found = get_redis().smismember(KEY, ids)
    except RedisError:
        return None
    return {store_id for store_id, member in zip(ids, found, strict=True) if member}
