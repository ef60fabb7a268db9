"""Corrections: a shipment pointed at another tracking number or carrier.

The shipment keeps its id, order and tracking link; what the old number or carrier said goes
(events, status, sync outcome), and it is pulled once at once in the background, touching no
cooldown.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import cooldowns
from ..carriers import catalogue
from ..carriers.numbers import normalize_tracking_number
from ..models import (
    RequestSource,
    ResyncJob,
    ResyncRequest,
    Shipment,
    ShipmentStatus,
    SyncOutcome,
    TrackingEvent,
)
from ..redis_client import RedisUnavailable
from . import enqueue
from .first_pulls import first_pulls_request
from .ingest import FIRST_PULL_SAFETY_NET
from .single import enqueue_job_or_release, single_audit
from .verdicts import ResyncVerdict, audit_request

logger = logging.getLogger("shipments.services")


class BadCorrection(ValueError):
    """The correction asks for something that cannot be (an unknown carrier, an empty or
    over-long number, nothing different from now). `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TrackingNumberTaken(ValueError):
    """Another shipment of the store already has this carrier and tracking number."""

    def __init__(self, other_id: int) -> None:
        super().__init__(f"shipment {other_id} already has this carrier and tracking number")
        self.other_id = other_id


def _carrier_code(carrier: str) -> str:
    """A catalogue carrier's code, else `BadCorrection`."""
    code = (carrier or "").strip().lower()
    if catalogue.get(code) is None:
        raise BadCorrection("carrier", f"Unknown carrier {code[:32]!r}.")
    return code


def shipment_retrack(
    *,
    shipment: Shipment,
    tracking_number: str,
    carrier: str | None,
    now: dt.datetime,
    pull: bool = True,
) -> Shipment:
    """Point `shipment` at (`carrier`, `tracking_number`) and forget what the old pair said.

    Raises `TrackingNumberTaken` when another of the store's shipments has that pair. Runs in
    the caller's transaction (or its own); the pull (unless `pull=False`: the caller pulls) is
    published on commit.
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
        shipment.actual_carrier_code = ""
        shipment.actual_carrier_name = ""
        shipment.actual_carrier_url = ""
        shipment.last_event_at = None
        shipment.last_synced_at = None
        shipment.last_sync_outcome = SyncOutcome.NEVER
        shipment.last_sync_error = ""
        shipment.cancelled_at = None
        shipment.next_sync_at = now + FIRST_PULL_SAFETY_NET if carrier else None
        shipment.save()
        if carrier and pull:
            pk = shipment.pk
            transaction.on_commit(lambda: enqueue.chunk(None, carrier, [pk]), robust=True)
    logger.info("shipment %s now tracked as %s %s", shipment.pk, carrier, tracking_number)
    return shipment


def shipment_correct(
    *,
    shipment: Shipment,
    carrier: str,
    tracking_number: str = "",
    source: str = RequestSource.CORRECTION,
    user: Any = None,
    ip_address: str | None = None,
) -> ResyncVerdict:
    """Set the shipment's carrier (and, if given, its tracking number) and pull it from that
    carrier at once — even during its cooldown, which starts again. The old carrier's events
    leave the timeline; the audit says who changed what (source `correction`).

    Raises `BadCorrection` (→ 400), `TrackingNumberTaken` (→ 400) and `RedisUnavailable`
    (→ 503; nothing changes then).
    """
    code = _carrier_code(carrier)
    number = normalize_tracking_number(tracking_number) or shipment.tracking_number
    if len(number) > 64:
        raise BadCorrection("tracking_number", "A tracking number has at most 64 characters.")
    if (code, number) == (shipment.carrier, shipment.tracking_number):
        raise BadCorrection("carrier", "That is already the shipment's carrier and number.")
    before = f"{shipment.carrier or 'no carrier'} {shipment.tracking_number}"
    audit = single_audit(
        shipment=shipment,
        source=source,
        user=user,
        ip_address=ip_address,
        forced=True,
        detail=f"{before} → {code} {number}",
    )
    try:
        cooldowns.clear_shipment(shipment.store_id, shipment.pk)
        gate = cooldowns.acquire_shipment(shipment.store_id, shipment.pk)
    except RedisUnavailable:
        audit_request(
            **audit, accepted=False, refused_reason=ResyncRequest.RefusedReason.UNAVAILABLE
        )
        raise
    with transaction.atomic():
        shipment_retrack(
            shipment=shipment, tracking_number=number, carrier=code, now=timezone.now(), pull=False
        )
        job = ResyncJob.objects.create(shipment=shipment, source=source)
        audit_request(**audit, accepted=True, retry_after=gate.retry_after, job=job)
        transaction.on_commit(lambda: enqueue_job_or_release(job, shipment), robust=False)
    logger.info("shipment %s corrected: %s", shipment.pk, audit["detail"])
    return ResyncVerdict(True, gate.retry_after, job=job)


MAX_BULK_CORRECTION = 500


def shipments_set_carrier(
    *, store_id: int, shipment_ids: list[int], carrier: str, user: Any = None
) -> int:
    """Give these shipments of the store one carrier (each keeps its number), forget what the
    old carrier said, and pull them in carrier batches (no cooldown restarted). Another store's
    ids are ignored. Returns how many changed. Raises `BadCorrection`."""
    code = _carrier_code(carrier)
    if not shipment_ids:
        raise BadCorrection("ids", "Select at least one shipment.")
    if len(shipment_ids) > MAX_BULK_CORRECTION:
        raise BadCorrection("ids", f"Select at most {MAX_BULK_CORRECTION} shipments at once.")
    now = timezone.now()
    changed: list[int] = []
    with transaction.atomic():
        shipments = Shipment.objects.select_for_update().filter(
            store_id=store_id, pk__in=shipment_ids
        )
        for shipment in shipments.exclude(carrier=code):
            before = f"{shipment.carrier or 'no carrier'} {shipment.tracking_number}"
            try:
                shipment_retrack(
                    shipment=shipment,
                    tracking_number=shipment.tracking_number,
                    carrier=code,
                    now=now,
                    pull=False,
                )
            except TrackingNumberTaken:
                continue  # the store tracks this number with that carrier already
            changed.append(shipment.pk)
            audit_request(
                **single_audit(
                    shipment=shipment,
                    source=RequestSource.CORRECTION,
                    user=user,
                    detail=f"{before} → {code} {shipment.tracking_number}",
                ),
                accepted=True,
            )
        if changed:
            planned = [(code, changed)]
            transaction.on_commit(lambda: first_pulls_request(planned), robust=True)
    logger.info("%s shipments of store %s now use %s", len(changed), store_id, code)
    return len(changed)
