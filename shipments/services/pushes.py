"""Carrier push (17TRACK, AfterShip webhooks) applied to shipments: the same writer as a pull.

`shipments_apply_push` hands a pushed `TrackingResult` to `pulls.shipments_apply_results`, the
one service that writes carrier data (events never twice, status, `shipments_changed` for the
shopper e-mails and merchant webhooks), after two checks of its own:

- an older push arriving after a newer one changes nothing: its latest event is older than the
  shipment's, or its source time (AfterShip's `updated_at`) is older than the last push applied;
- the shipment remembers the push (`push_seen_at`), so the schedule pulls it only as a daily
  safety check while pushes keep coming (`pulls.next_sync_at`).

`shipments_push_stopped` (17TRACK stopped tracking the number) puts the shipments back on the
normal schedule.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction

from ..carriers.base import TrackingResult
from ..models import FINAL_STATUSES, Shipment
from .pulls import next_sync_at, shipments_apply_results

logger = logging.getLogger("shipments.services")


@dataclass(frozen=True)
class PushOutcome:
    matched: list[int] = field(default_factory=list)  # the shipments with this number
    applied: list[int] = field(default_factory=list)  # written (the others: an older push)
    changed: set[int] = field(default_factory=set)  # news: new events or another status


def shipments_for_push(*, carrier: str, tracking_number: str) -> list[Shipment]:
    """The live shipments (any store) tracked through `carrier` with this number."""
    return list(
        Shipment.objects.filter(
            carrier=carrier, tracking_number=tracking_number, cancelled_at__isnull=True
        ).order_by("pk")
    )


def push_is_older(
    shipment: Shipment,
    result: TrackingResult,
    *,
    source_time: dt.datetime | None,
    last_source_time: dt.datetime | None,
) -> bool:
    """Whether this push describes an older state than the shipment already shows."""
    latest = max((e.occurred_at for e in result.events), default=None)
    if shipment.last_event_at is not None and (latest is None or latest < shipment.last_event_at):
        return True  # older events than shown (or none at all, after some were shown)
    if source_time is not None and last_source_time is not None:
        return source_time < last_source_time
    return False


def shipments_apply_push(
    *,
    carrier: str,
    result: TrackingResult,
    now: dt.datetime,
    source_time: dt.datetime | None = None,
    last_source_time: dt.datetime | None = None,
) -> PushOutcome:
    """Apply one pushed result to every live shipment with its number, in one transaction
    holding their rows (two pushes for one number apply one after the other)."""
    with transaction.atomic():
        shipments = list(
            Shipment.objects.select_for_update()
            .filter(
                carrier=carrier,
                tracking_number=result.tracking_number,
                cancelled_at__isnull=True,
            )
            .order_by("pk")
        )
        fresh = [
            s
            for s in shipments
            if not push_is_older(
                s, result, source_time=source_time, last_source_time=last_source_time
            )
        ]
        for shipment in fresh:
            shipment.push_seen_at = now
        changed = shipments_apply_results(
            shipments=fresh, results={result.tracking_number: result}, now=now
        )
    if len(fresh) < len(shipments):
        logger.info(
            "%s push for %s older than what %s show: not applied",
            carrier,
            result.tracking_number,
            [s.pk for s in shipments if s not in fresh],
        )
    return PushOutcome([s.pk for s in shipments], [s.pk for s in fresh], changed)


def shipments_push_stopped(*, carrier: str, tracking_number: str, now: dt.datetime) -> list[int]:
    """The provider stopped pushing this number: its shipments go back to the normal schedule
    (the next pull by status, from now). Returns their ids."""
    with transaction.atomic():
        shipments = list(
            Shipment.objects.select_for_update().filter(
                carrier=carrier, tracking_number=tracking_number, cancelled_at__isnull=True
            )
        )
        for shipment in shipments:
            shipment.push_seen_at = None
            if shipment.status not in FINAL_STATUSES:
                shipment.next_sync_at = next_sync_at(shipment.status, now)
        Shipment.objects.bulk_update(shipments, ["push_seen_at", "next_sync_at"])
    return [s.pk for s in shipments]
