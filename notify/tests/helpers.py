"""Helpers of the notify tests: carrier news applied the way every pull applies it."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.models import Shipment
from shipments.services import shipments_apply_results

_minutes = itertools.count(1)


def news(shipment: Shipment, status: str, description: str = "Scanned") -> TrackingResult:
    at = timezone.now() - dt.timedelta(hours=1) + dt.timedelta(seconds=next(_minutes))
    event = TrackingEventData(at, Status(status), f"{description} ({status})", "Leipzig, DE")
    return TrackingResult(
        shipment.carrier,
        shipment.tracking_number,
        Status(status),
        estimated_delivery=timezone.now() + dt.timedelta(days=2),
        events=(event,),
    )


def apply(*shipments_and_statuses: tuple[Shipment, str]) -> set[int]:
    """Apply one carrier answer per (shipment, status), all in one call (as a bulk chunk does)."""
    results = {s.tracking_number: news(s, status) for s, status in shipments_and_statuses}
    targets = [Shipment.objects.get(pk=s.pk) for s, _ in shipments_and_statuses]
    return shipments_apply_results(shipments=targets, results=results, now=timezone.now())
