"""Merchant API keys: created (the raw key is returned once, only its SHA-256 is kept), revoked,
and checked on every API request.

A key is `rsk_` + 256 random bits (URL-safe base64). Its first characters are kept as `prefix` so
a merchant can tell keys apart; the rest is never stored, logged or shown again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from django.db.models import Q
from django.utils import timezone

from shipments.models import Store

from ..models import ApiKey

logger = logging.getLogger("connect.services")

KEY_PREFIX = "rsk_"
# Shown in lists: "rsk_" and 8 characters of the secret part (48 of its 256 bits).
PREFIX_LENGTH = len(KEY_PREFIX) + 8
# A key is 4 + 43 characters; anything much longer is not one of ours (and is not hashed).
MAX_KEY_LENGTH = 100
# `last_used_at` is written at most this often per key (not on every request).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
DEFAULT_NAME = "API key"


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, store: Store, name: str = "", created_by: Any = None) -> tuple[ApiKey, str]:
    """A new key for `store`: (the stored key, the raw key — its only appearance).

    Raises `ValidationError` for a name longer than 100 characters; a blank name becomes
    "API key".
    """
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    key = ApiKey(
        store=store,
        name=" ".join(str(name).split()) or DEFAULT_NAME,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=_hash(raw),
        created_by=user,
    )
    key.full_clean()
    key.save()
    logger.info("api key %s (%s…) created for store %s", key.pk, key.prefix, store.pk)
    return key, raw


def api_key_revoke(*, store: Store, key_id: int) -> ApiKey | None:
    """Revoke one of the store's keys (at once: the next request with it is refused).

    None when the store has no such key; revoking a revoked key changes nothing.
    """
    key = ApiKey.objects.filter(store=store, pk=key_id).first()
    if key is None:
        return None
    if key.revoked_at is None:
        now = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        key.revoked_at = now
        logger.info("api key %s (%s…) revoked", key.pk, key.prefix)
    return key


def api_key_authenticate(*, raw_key: str, now: dt.datetime | None = None) -> ApiKey | None:
    """The active key `raw_key` is (with its store), or None for a wrong or revoked key.

    Notes the use in `last_used_at`, at most once a minute per key.
    """
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > MAX_KEY_LENGTH:
        return None
    key = (
        ApiKey.objects.filter(key_hash=_hash(raw_key), revoked_at__isnull=True)
        .select_related("store")
        .first()
    )
    if key is None:
        return None
    now = now or timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if key.last_used_at is None or key.last_used_at < stale:
        # Conditional, so concurrent requests of one key write it once.
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key
