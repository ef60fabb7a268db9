"""The hooks app listens to `shipments_changed`: an interface that hands the list to the service."""

from __future__ import annotations

from typing import Any

from shipments.signals import ShipmentChange

from .services import deliveries_record


def record_deliveries(sender: Any, changes: list[ShipmentChange], **kwargs: Any) -> None:
    """Inside the apply service's transaction: the deliveries are written with the change."""
    deliveries_record(changes=changes)
