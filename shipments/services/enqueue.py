"""Every task the product publishes goes through here.

Tasks are sent by name, so no module needs to import `shipments.tasks` (which imports the
services): the dependency goes one way, tasks → services → enqueue. Queues: `interactive` for
a person waiting on a page, `bulk` for everything else.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError

from ..circuit import CLOSED
from ..redis_client import RedisError, RedisUnavailable, breaker_for_url, broker_client

INTERACTIVE = "interactive"
BULK = "bulk"

RESYNC_JOB_EXECUTE = "shipments.tasks.resync_job_execute"
SYNC_RUN_DISPATCH = "shipments.tasks.sync_run_dispatch"
SYNC_CHUNK = "shipments.tasks.sync_chunk"
SHIPMENTS_SYNC_DUE = "shipments.tasks.shipments_sync_due"
SYNC_RUNS_RECONCILE = "shipments.tasks.sync_runs_reconcile"
FIRST_PULLS_FLUSH = "shipments.tasks.first_pulls_flush"
RESYNC_REFUSALS_FLUSH = "shipments.tasks.resync_refusals_flush"


def publish(
    name: str,
    *,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str,
    countdown: float | None = None,
) -> None:
    """Send one task; a broker that does not answer becomes `RedisUnavailable` (→ 503).

    The message is the one the task's own `apply_async` would send: results ignored and the
    configured time limits. Without `ignore_result` in the message, a single resync waited
    twice as long in the queue during a bulk run (bench/single_during_bulk.py: p50 0.3 s →
    0.6 s).

    The broker's server has the same circuit breaker as the app's own Redis calls: a broker
    that timed out a moment ago is not asked again until its open period is over, and then a
    PING (one `REDIS_SOCKET_TIMEOUT`) is the trial, not a publish (kombu's timeouts and its
    retry make a publish to a hung broker take about 6 s).
    """
    breaker = breaker_for_url(settings.CELERY_BROKER_URL)
    try:
        if breaker.state != CLOSED:
            broker_client().ping()  # through the same breaker: refused, or the trial
        breaker.allow()
    except RedisError as exc:
        raise RedisUnavailable(f"broker unavailable: {exc}") from exc
    try:
        current_app.send_task(
            name,
            args=args,
            kwargs=kwargs,
            queue=queue,
            countdown=countdown,
            ignore_result=True,
            time_limit=settings.CELERY_TASK_TIME_LIMIT,
            soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
        )
    except (OperationalError, RedisError, OSError) as exc:
        breaker.failure(exc)
        raise RedisUnavailable(f"broker unavailable: {exc}") from exc
    breaker.success()


def resync_job(job_id: str, *, attempt: int = 0, countdown: float | None = None) -> None:
    """Run (or retry) one single-shipment resync job."""
    kwargs = {"attempt": attempt} if attempt else None
    publish(
        RESYNC_JOB_EXECUTE, args=(job_id,), kwargs=kwargs, queue=INTERACTIVE, countdown=countdown
    )


def run_dispatch(run_id: int) -> None:
    """Plan a bulk run."""
    publish(SYNC_RUN_DISPATCH, args=(run_id,), queue=BULK)


def chunk(
    run_id: int | None,
    carrier: str,
    shipment_ids: list[int],
    *,
    attempt: int = 0,
    countdown: float | None = None,
) -> None:
    """Pull one carrier batch (of a run, or of the schedule when `run_id` is None)."""
    kwargs = {"attempt": attempt} if attempt else None
    publish(
        SYNC_CHUNK,
        args=(run_id, carrier, shipment_ids),
        kwargs=kwargs,
        queue=BULK,
        countdown=countdown,
    )


def chunks(run_id: int | None, planned: list[tuple[str, list[int]]]) -> None:
    for carrier, shipment_ids in planned:
        chunk(run_id, carrier, shipment_ids)


def first_pulls_flush(carrier: str, *, countdown: float | None = None) -> None:
    """Pull the shipments gathered for a first pull with `carrier` (services.first_pulls)."""
    publish(FIRST_PULLS_FLUSH, args=(carrier,), queue=BULK, countdown=countdown)
