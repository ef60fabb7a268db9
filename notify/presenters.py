"""Shapes of the settings page and its JSON."""

from __future__ import annotations

from typing import Any

from shipments.models import ShipmentStatus, Store

from .models import NOTIFIABLE_STATUSES
from .selectors import store_preferences


def preferences_payload(*, store: Store) -> dict[str, Any]:
    enabled, statuses = store_preferences(store=store)
    return {"enabled": enabled, "statuses": statuses}


def preferences_form(*, store: Store) -> dict[str, Any]:
    enabled, statuses = store_preferences(store=store)
    return {
        "enabled": enabled,
        "choices": [
            {"value": str(s), "label": ShipmentStatus(s).label, "checked": str(s) in statuses}
            for s in NOTIFIABLE_STATUSES
        ],
    }
