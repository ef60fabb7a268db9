"""Celery tasks: each takes ids, runs the service it is named after, and is safe to run twice
(services account for each shipment of a run once, events are unique per shipment, finished
jobs are left alone). Retries are rescheduled through `services.enqueue`, never slept on.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from resync_site.logging import log_context

from . import services
from .services import enqueue


@shared_task(name=enqueue.RESYNC_JOB_EXECUTE, queue=enqueue.INTERACTIVE, ignore_result=True)
def resync_job_execute(job_id: str, attempt: int = 0) -> None:
    """One single-shipment resync (a person is waiting on the page)."""
    delay = services.resync_job_execute(job_id=job_id, attempt=attempt)
    if delay is not None:
        enqueue.resync_job(job_id, attempt=attempt + 1, countdown=delay)


@shared_task(name=enqueue.SYNC_RUN_DISPATCH, queue=enqueue.BULK, ignore_result=True)
def sync_run_dispatch(run_id: int) -> None:
    """Plan a bulk run: one query for its shipments, chunks per carrier batch limit."""
    with log_context(run=run_id):
        enqueue.chunks(run_id, services.sync_run_dispatch(run_id=run_id))


@shared_task(name=enqueue.SYNC_CHUNK, queue=enqueue.BULK, ignore_result=True)
def sync_chunk(run_id: int | None, carrier: str, shipment_ids: list[int], attempt: int = 0) -> None:
    """Pull one carrier batch; transient failures are rescheduled."""
    plan = services.sync_chunk(
        run_id=run_id, carrier=carrier, shipment_ids=shipment_ids, attempt=attempt
    )
    if plan.retry_ids:
        enqueue.chunk(
            run_id,
            carrier,
            plan.retry_ids,
            attempt=attempt + 1 if plan.counts_as_attempt else attempt,
            countdown=plan.delay,
        )


@shared_task(name=enqueue.SHIPMENTS_SYNC_DUE, queue=enqueue.BULK, ignore_result=True)
def shipments_sync_due() -> None:
    """Beat: pull shipments that are due, by status (final ones never)."""
    services.shipments_sync_due(now=timezone.now())


@shared_task(name=enqueue.SYNC_RUNS_RECONCILE, queue=enqueue.BULK, ignore_result=True)
def sync_runs_reconcile() -> None:
    """Beat: resume stalled runs and single jobs."""
    services.sync_runs_reconcile(now=timezone.now())


@shared_task(name=enqueue.FIRST_PULLS_FLUSH, queue=enqueue.BULK, ignore_result=True)
def first_pulls_flush(carrier: str) -> None:
    """Pull, in carrier batches, the shipments that came in during the last second or so."""
    enqueue.chunks(None, services.first_pulls_take(carrier=carrier))


@shared_task(name=enqueue.RESYNC_REFUSALS_FLUSH, queue=enqueue.BULK, ignore_result=True)
def resync_refusals_flush() -> None:
    """Beat: write the audit rows of the refused shopper resyncs counted in Redis (one per
    shipment, client, reason and minute that is over)."""
    services.resync_refusals_flush()
