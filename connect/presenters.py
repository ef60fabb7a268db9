"""Connect's JSON shapes (the merchant's API keys page); nothing here queries."""

from __future__ import annotations

from typing import Any

from shipments.presenters import iso

from .models import ApiKey


def api_key_payload(key: ApiKey) -> dict[str, Any]:
    """A key as its list shows it: never the key itself, nor its hash."""
    return {
        "id": key.pk,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at),
        "active": key.is_active,
    }
