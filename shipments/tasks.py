"""Celery tasks: thin interfaces that take ids and call services (STYLE.md §5–§7).

Every task is safe to run twice: services account for each shipment of a run once, events are
unique per shipment, and finished jobs are left alone.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from resync_site.logging import log_context

from . import services

logger = logging.getLogger(__name__)


def _enqueue_chunks(run_id: int | None, chunks: list[tuple[str, list[int]]]) -> None:
    for carrier, ids in chunks:
        sync_chunk.apply_async(args=(run_id, carrier, ids), queue="bulk")


@shared_task(queue="interactive", acks_late=True, ignore_result=True)
def resync_shipment(job_id: str, attempt: int = 0) -> None:
    """One single-shipment resync (a person is waiting on the page)."""
    delay = services.resync_job_execute(job_id=job_id, attempt=attempt)
    if delay is not None:
        resync_shipment.apply_async(
            args=(job_id,), kwargs={"attempt": attempt + 1}, countdown=delay, queue="interactive"
        )


@shared_task(queue="bulk", acks_late=True, ignore_result=True)
def dispatch_sync_run(run_id: int) -> None:
    """Plan a bulk run: one query for its shipments, chunks per carrier batch limit."""
    with log_context(run=run_id):
        _enqueue_chunks(run_id, services.sync_run_dispatch(run_id=run_id))


@shared_task(queue="bulk", acks_late=True, ignore_result=True)
def sync_chunk(run_id: int | None, carrier: str, shipment_ids: list[int], attempt: int = 0) -> None:
    """Pull one carrier batch; transient failures are rescheduled (never slept on)."""
    plan = services.sync_chunk(
        run_id=run_id, carrier=carrier, shipment_ids=shipment_ids, attempt=attempt
    )
    if plan.retry_ids:
        sync_chunk.apply_async(
            args=(run_id, carrier, plan.retry_ids),
            kwargs={"attempt": attempt + 1 if plan.counts_as_attempt else attempt},
            countdown=plan.delay,
            queue="bulk",
        )


@shared_task(queue="bulk", acks_late=True, ignore_result=True)
def scheduled_sync() -> None:
    """Beat: pull shipments that are due, by status (final ones never)."""
    chunks = services.shipments_take_due(now=timezone.now())
    if chunks:
        logger.info("scheduled sync: %s chunks", len(chunks))
    _enqueue_chunks(None, chunks)


@shared_task(queue="bulk", acks_late=True, ignore_result=True)
def reconcile_sync_runs() -> None:
    """Beat: resume runs without progress for SYNC_RUN_STALL_SECONDS (a killed worker, a lost
    message): re-plan a run that never got dispatched, re-enqueue what is still pending. Single
    resync jobs left unfinished that long are enqueued again too (with the attempts they had)."""
    now = timezone.now()
    for run in services.sync_runs_stalled(now=now):
        with log_context(store=run.store_id, run=run.pk):
            if run.state == "queued":
                dispatch_sync_run.apply_async(args=(run.pk,), queue="bulk")
            else:
                _enqueue_chunks(run.pk, services.sync_run_pending_chunks(run_id=run.pk))
    for job_id, attempts in services.resync_jobs_stalled(now=now):
        resync_shipment.apply_async(
            args=(job_id,),
            kwargs={"attempt": min(attempts, services.JOB_MAX_ATTEMPTS - 1)},
            queue="interactive",
        )
