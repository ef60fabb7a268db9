"""Single resync jobs: the worker's half of a single-shipment resync (a person is waiting)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from resync_site.logging import log_context

from ..carriers.base import CarrierError, InvalidCredentials, TrackingNumberNotFound
from ..messages import error_message, result_message
from ..models import ResyncJob
from .pulls import fetch, retry_delay, shipments_apply_results, shipments_mark_failed

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
            changed = shipments_apply_results(
                shipments=[shipment], results={shipment.tracking_number: result}, now=now
            )
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
        reason = error_message(error)
        with transaction.atomic():
            shipments_mark_failed(shipment_ids=[shipment.pk], reason=reason, now=now)
            ResyncJob.objects.filter(pk=job.pk).update(
                state=ResyncJob.State.FAILED, message=reason, changed=False, finished_at=now
            )
        level = logging.INFO if isinstance(error, TrackingNumberNotFound) else logging.WARNING
        logger.log(level, "single resync failed: %s", error.message)
        if isinstance(error, InvalidCredentials):
            logger.error("carrier %s refuses our credentials", shipment.carrier)
        return None
