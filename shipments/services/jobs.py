"""Single resync jobs: the worker's half of a single-shipment resync (a person is waiting)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from resync_site.logging import log_context

from ..carriers.base import CarrierError, InvalidCredentials, TrackingNumberNotFound
from ..messages import error_message, result_message
from ..models import ResyncJob
from .pulls import (
    STORE_ERRORS,
    fetch,
    retry_delay,
    shipments_apply_results,
    shipments_mark_failed,
)

logger = logging.getLogger("shipments.services")  # one name, as before the split

# An interactive resync has a person waiting: few, short retries.
JOB_MAX_ATTEMPTS = 3
JOB_MAX_DELAY = 10.0


def resync_job_execute(*, job_id: str, attempt: int = 0) -> float | None:
    """Run one single-shipment resync job. Returns a delay to retry after, or None when done.

    A redelivered job that already finished does nothing.
    """
    job = ResyncJob.objects.select_related("shipment__store").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    shipment = job.shipment
    with log_context(store=shipment.store_id, shipment=shipment.pk, job=job.pk):
        ResyncJob.objects.filter(pk=job.pk).update(
            state=ResyncJob.State.RUNNING, attempts=F("attempts") + 1
        )
        outcome = fetch(shipment.carrier, [shipment.tracking_number])
        now = timezone.now()
        result = outcome.results.get(shipment.tracking_number)
        if result is not None:
            try:  # it writes in its own transaction: a refused value leaves nothing behind
                changed = shipments_apply_results(
                    shipments=[shipment], results={shipment.tracking_number: result}, now=now
                )
            except STORE_ERRORS as exc:
                # Failed, never left "running" for the reconciler to run again and again.
                logger.error(
                    "single resync: the carrier's answer could not be stored (%s)",
                    type(exc).__name__,
                )
                _job_fail(job, reason=error_message("not_stored"), now=now)
                return None
            message = result_message(
                changed=bool(changed),
                latest_event_at=shipment.last_event_at,
                time_zone=shipment.store.time_zone,
            )
            ResyncJob.objects.filter(pk=job.pk).update(
                state=ResyncJob.State.SUCCEEDED,
                message=message,
                changed=bool(changed),
                finished_at=now,
            )
            logger.info("single resync succeeded (changed=%s)", bool(changed))
            return None
        error = outcome.errors.get(shipment.tracking_number) or CarrierError("no answer")
        # Retry transient failures a few times, unless the carrier asks us to wait longer than
        # a person would: then fail now and say so.
        if (
            error.transient
            and attempt + 1 < JOB_MAX_ATTEMPTS
            and (error.retry_after is None or error.retry_after <= JOB_MAX_DELAY)
        ):
            return retry_delay(attempt, error, cap=JOB_MAX_DELAY)
        _job_fail(job, reason=error_message(error), now=now)
        level = logging.INFO if isinstance(error, TrackingNumberNotFound) else logging.WARNING
        logger.log(level, "single resync failed: %s", error.message)
        if isinstance(error, InvalidCredentials):
            logger.error("carrier %s refuses our credentials", shipment.carrier)
        return None


def _job_fail(job: ResyncJob, *, reason: str, now: dt.datetime) -> None:
    """The job failed for `reason` (the merchant's words); its shipment keeps its last good
    data and says why."""
    with transaction.atomic():
        shipments_mark_failed(shipment_ids=[job.shipment_id], reason=reason, now=now)
        ResyncJob.objects.filter(pk=job.pk).update(
            state=ResyncJob.State.FAILED, message=reason, changed=False, finished_at=now
        )
