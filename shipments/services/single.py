"""Single-shipment resync: one shared 5-minute cooldown for every place that asks."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from resync_site.logging import log_context

from .. import cooldowns
from ..inserts import insert_together
from ..messages import ENQUEUE_FAILED
from ..models import RequestSource, ResyncJob, ResyncRequest, Shipment
from ..redis_client import RedisUnavailable
from . import enqueue
from .refusals import refusal_record
from .verdicts import ResyncVerdict, audit_request

logger = logging.getLogger("shipments.services")  # one name, as before the split


def shipment_resync(
    *,
    shipment: Shipment,
    source: str,
    user: Any = None,
    ip_address: str | None = None,
    force: bool = False,
    client_limit: cooldowns.ClientLimit | None = None,
) -> ResyncVerdict:
    """Request a resync of one shipment: one shared 5-minute cooldown for every place that asks.

    Raises `RedisUnavailable` when Redis or the broker does not answer (nothing is queued then).
    `force` (ops) skips the cooldown check but still starts it. `client_limit` (the public page)
    counts the request against its client's abuse limit first, in the same Redis call: past it,
    the refusal says "too many resyncs from your connection".
    """

    audit = single_audit(
        shipment=shipment, source=source, user=user, ip_address=ip_address, forced=force
    )
    with log_context(store=shipment.store_id, shipment=shipment.pk):
        try:
            if force:
                cooldowns.clear_shipment(shipment.store_id, shipment.pk)
            gate = cooldowns.acquire_shipment(shipment.store_id, shipment.pk, client=client_limit)
        except RedisUnavailable:
            audit_request(
                **audit, accepted=False, refused_reason=ResyncRequest.RefusedReason.UNAVAILABLE
            )
            logger.warning("single resync refused: Redis unavailable")
            raise
        if not gate.accepted:
            if gate.reason == cooldowns.REASON_RATE_LIMITED:
                logger.info("single resync refused: per-client limit (%ss)", gate.retry_after)
            # An anonymous shopper's refusal is counted, not written (services.refusals).
            refusal_record(
                shipment=shipment,
                source=source,
                user=user,
                ip_address=ip_address,
                reason=gate.reason,
                retry_after=gate.retry_after,
            )
            return ResyncVerdict(False, gate.retry_after, gate.reason)
        # The job and its audit row: one atomic write (one statement on PostgreSQL).
        job = ResyncJob(shipment=shipment, source=source)
        insert_together(
            job, ResyncRequest(**audit, accepted=True, retry_after=gate.retry_after, job=job)
        )
        transaction.on_commit(lambda: enqueue_job_or_release(job, shipment), robust=False)
        logger.info("single resync accepted (job %s, source %s)", job.pk, source)
        return ResyncVerdict(True, gate.retry_after, job=job)


def single_audit(
    *,
    shipment: Shipment,
    source: str,
    user: Any = None,
    ip_address: str | None = None,
    forced: bool = False,
    detail: str = "",
) -> dict[str, Any]:
    """The audit row's fields of a request about one shipment (resync or correction)."""
    return {
        "store_id": shipment.store_id,
        "kind": ResyncRequest.Kind.SINGLE,
        "source": source,
        "user": user if getattr(user, "is_authenticated", False) else None,
        "ip_address": ip_address,
        "shipment": shipment,
        "forced": forced,
        "detail": detail[:300],
    }


def enqueue_job_or_release(job: ResyncJob, shipment: Shipment) -> None:
    """Publish the job (on commit); if the broker is down, fail it and lift the cooldown."""
    try:
        enqueue.resync_job(str(job.pk))
    except RedisUnavailable:
        ResyncJob.objects.filter(pk=job.pk).update(
            state=ResyncJob.State.FAILED,
            message=str(ENQUEUE_FAILED),
            finished_at=timezone.now(),
        )
        with contextlib.suppress(RedisUnavailable):
            cooldowns.clear_shipment(shipment.store_id, shipment.pk)
        raise


def shipment_clear_cooldown(*, shipment: Shipment, user: Any = None) -> bool:
    """Ops: let this shipment be resynced again now (audited)."""
    cleared = cooldowns.clear_shipment(shipment.store_id, shipment.pk)
    audit_request(
        store_id=shipment.store_id,
        kind=ResyncRequest.Kind.CLEAR_COOLDOWN,
        source=RequestSource.OPS,
        user=user,
        shipment=shipment,
        accepted=True,
    )
    return cleared
