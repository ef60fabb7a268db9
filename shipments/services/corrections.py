"""Corrections: a shipment pointed at another tracking number or carrier.

The shipment keeps its id, order and tracking link; what the old number or carrier said goes
(events, status, sync outcome), and it is pulled once at once in the background, touching no
cooldown.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from ..models import Shipment, ShipmentStatus, SyncOutcome, TrackingEvent
from . import enqueue
from .ingest import FIRST_PULL_SAFETY_NET

logger = logging.getLogger("shipments.services")


class TrackingNumberTaken(ValueError):
    """Another shipment of the store already has this carrier and tracking number."""

    def __init__(self, other_id: int) -> None:
        super().__init__(f"shipment {other_id} already has this carrier and tracking number")
        self.other_id = other_id


def shipment_retrack(
    *, shipment: Shipment, tracking_number: str, carrier: str | None, now: dt.datetime
) -> Shipment:
    """Point `shipment` at (`carrier`, `tracking_number`) and forget what the old pair said.

    Raises `TrackingNumberTaken` when another of the store's shipments has that pair. Runs in
    the caller's transaction (or its own); the pull is published on commit.
    """
    with transaction.atomic():
        clash = (
            Shipment.objects.filter(
                store_id=shipment.store_id, tracking_number=tracking_number, carrier=carrier
            )
            .exclude(pk=shipment.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if clash is not None:
            raise TrackingNumberTaken(clash)
        TrackingEvent.objects.filter(shipment=shipment).delete()
        shipment.carrier = carrier
        shipment.tracking_number = tracking_number
        shipment.status = ShipmentStatus.PENDING
        shipment.sub_status = ""
        shipment.carrier_status_code = ""
        shipment.carrier_status_text = ""
        shipment.estimated_delivery = None
        shipment.origin = ""
        shipment.destination = ""
        shipment.last_event_at = None
        shipment.last_synced_at = None
        shipment.last_sync_outcome = SyncOutcome.NEVER
        shipment.last_sync_error = ""
        shipment.cancelled_at = None
        shipment.next_sync_at = now + FIRST_PULL_SAFETY_NET if carrier else None
        shipment.save()
        if carrier:
            pk = shipment.pk
            transaction.on_commit(lambda: enqueue.chunk(None, carrier, [pk]), robust=True)
    logger.info("shipment %s now tracked as %s %s", shipment.pk, carrier, tracking_number)
    return shipment
