"""What the hooks app listens to: `shipments_changed` (deliveries to record) and its own
endpoints being saved (the store directory). Interfaces: they hand over to the services."""

from __future__ import annotations

from typing import Any

from shipments.signals import ShipmentChange

from .models import WebhookEndpoint
from .services import deliveries_record, endpoint_store_add


def record_deliveries(sender: Any, changes: list[ShipmentChange], **kwargs: Any) -> None:
    """Inside the apply service's transaction: the deliveries are written with the change."""
    deliveries_record(changes=changes)


def note_endpoint_store(sender: Any, instance: WebhookEndpoint, **kwargs: Any) -> None:
    """An endpoint saved active: its store's changes are looked at from now on (even before the
    save commits, so no change of the same moment is missed)."""
    if instance.is_active:
        endpoint_store_add(store_id=instance.store_id)
