"""The schedule: expiring shipments without news, pulling those that are due, and resuming
runs and jobs that stalled (a killed worker, a lost message)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from resync_site.logging import log_context

from ..carriers import catalogue
from ..models import (
    ACTIVE_RUN_STATES,
    FINAL_STATUSES,
    ResyncJob,
    RunState,
    Shipment,
    ShipmentStatus,
    SyncRun,
    SyncRunItem,
)
from ..redis_client import RedisError, get_redis
from . import enqueue
from .jobs import JOB_MAX_ATTEMPTS
from .runs import chunk_by_carrier

logger = logging.getLogger("shipments.services")  # one name, as before the split

# A shipment without news for this long leaves the schedule as `expired`.
EXPRESS_CARRIERS = catalogue.EXPRESS_CODES
EXPIRE_AFTER_EXPRESS = dt.timedelta(days=30)
EXPIRE_AFTER_POSTAL = dt.timedelta(days=60)
SCHEDULE_LOCK_KEY = "resync:schedule:lock"
JOB_RESUME_KEY = "resync:job:{job}:resumed"
JOB_RESUME_BATCH = 500


def shipments_expire_stale(*, now: dt.datetime) -> int:
    """Synced shipments with no news for 30 days (express) / 60 days (postal) become `expired`."""
    last_news = Coalesce(F("last_event_at"), F("shipped_at"))
    # Only shipments pulled at least once: one never asked about gets its first pull instead.
    active = (
        Shipment.objects.exclude(status__in=FINAL_STATUSES)
        .filter(last_synced_at__isnull=False, carrier__isnull=False)
        .alias(last_news=last_news)
    )
    express = active.filter(
        carrier__in=EXPRESS_CARRIERS, last_news__lt=now - EXPIRE_AFTER_EXPRESS
    ).update(status=ShipmentStatus.EXPIRED, next_sync_at=None)
    postal = (
        active.exclude(carrier__in=EXPRESS_CARRIERS)
        .filter(last_news__lt=now - EXPIRE_AFTER_POSTAL)
        .update(status=ShipmentStatus.EXPIRED, next_sync_at=None)
    )
    return express + postal


def shipments_take_due(*, now: dt.datetime, limit: int = 5000) -> list[tuple[str, list[int]]]:
    """Claim the shipments due for a scheduled sync (oldest first) and plan their chunks.

    Overlapping ticks never double the work: a Redis lock guards the tick, and claimed
    shipments are pushed out of the due window until their sync lands.
    """
    ttl_ms = max(1000, settings.SCHEDULED_SYNC_INTERVAL_SECONDS * 1000)
    try:
        got = get_redis().set(SCHEDULE_LOCK_KEY, str(now.timestamp()), nx=True, px=ttl_ms)
    except RedisError:
        return []
    if not got:
        logger.info("scheduled sync: another tick holds the lock")
        return []
    shipments_expire_stale(now=now)
    rows = list(
        Shipment.objects.filter(
            next_sync_at__lte=now, carrier__isnull=False, cancelled_at__isnull=True
        )
        .exclude(status__in=FINAL_STATUSES)
        .order_by("next_sync_at")
        .values_list("id", "carrier")[:limit]
    )
    if rows:
        Shipment.objects.filter(pk__in=[r[0] for r in rows]).update(
            next_sync_at=now + dt.timedelta(minutes=30)
        )
    return chunk_by_carrier(rows)


def sync_runs_stalled(*, now: dt.datetime) -> list[SyncRun]:
    """Claim active runs without progress for SYNC_RUN_STALL_SECONDS (each claim is atomic, so
    two reconcilers never resume the same run twice)."""
    cutoff = now - dt.timedelta(seconds=settings.SYNC_RUN_STALL_SECONDS)
    candidates = SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).filter(
        Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, created_at__lt=cutoff)
    )
    claimed = []
    for run in candidates:
        won = SyncRun.objects.filter(
            pk=run.pk, state__in=ACTIVE_RUN_STATES, progressed_at=run.progressed_at
        ).update(progressed_at=now)
        if won:
            logger.warning("run %s stalled since %s: resuming", run.pk, run.progressed_at)
            claimed.append(run)
    return claimed


def sync_run_pending_chunks(*, run_id: int) -> list[tuple[str, list[int]]]:
    pending = SyncRunItem.objects.filter(
        run_id=run_id, outcome=SyncRunItem.Outcome.PENDING
    ).values_list("shipment_id", "carrier")
    return chunk_by_carrier(pending)


def resync_jobs_stalled(*, now: dt.datetime) -> list[tuple[str, int]]:
    """Claim single-shipment jobs still unfinished SYNC_RUN_STALL_SECONDS after they were
    accepted: their message was lost (a broker that restarted empty, a worker killed while it
    held the message). Returns (job id, attempts so far) of each job to enqueue again.

    A job is claimed once per stall period (`SET NX PX` in Redis), so overlapping reconcilers
    do not resume it twice; a redelivered job that has finished meanwhile does nothing.
    """
    stall = settings.SYNC_RUN_STALL_SECONDS
    rows = list(
        ResyncJob.objects.filter(
            state__in=(ResyncJob.State.QUEUED, ResyncJob.State.RUNNING),
            created_at__lt=now - dt.timedelta(seconds=stall),
        )
        .order_by("created_at")
        .values_list("pk", "attempts")[:JOB_RESUME_BATCH]
    )
    if not rows:
        return []
    try:
        pipe = get_redis().pipeline(transaction=False)
        for pk, _ in rows:
            pipe.set(JOB_RESUME_KEY.format(job=pk), str(now.timestamp()), nx=True, px=stall * 1000)
        won = pipe.execute()
    except RedisError:
        return []  # the broker is the same Redis: nothing could be enqueued anyway
    claimed = []
    for (pk, attempts), ok in zip(rows, won, strict=True):
        if ok:
            logger.warning("job %s stalled: resuming", pk)
            claimed.append((str(pk), attempts))
    return claimed


def shipments_sync_due(*, now: dt.datetime) -> int:
    """Beat: claim the shipments that are due and enqueue their chunks. Returns the chunk count."""
    planned = shipments_take_due(now=now)
    if planned:
        logger.info("scheduled sync: %s chunks", len(planned))
    enqueue.chunks(None, planned)
    return len(planned)


def sync_runs_reconcile(*, now: dt.datetime) -> None:
    """Beat: resume runs without progress for SYNC_RUN_STALL_SECONDS (re-plan a run that never
    got dispatched, re-enqueue what is still pending) and single jobs left unfinished that long
    (with the attempts they had)."""
    for run in sync_runs_stalled(now=now):
        with log_context(store=run.store_id, run=run.pk):
            if run.state == RunState.QUEUED:
                enqueue.run_dispatch(run.pk)
            else:
                enqueue.chunks(run.pk, sync_run_pending_chunks(run_id=run.pk))
    for job_id, attempts in resync_jobs_stalled(now=now):
        enqueue.resync_job(job_id, attempt=min(attempts, JOB_MAX_ATTEMPTS - 1))
