"""`/api/v1/jobs/<uuid>/` and `/api/v1/sync-runs/<id>/`: how a resync asked for by the API (or
the merchant app) is going — the `status_url` of a 202."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router

from connect import selectors
from resync_site import converters  # noqa: F401  (registers the <id:…> path converter)
from shipments import cooldowns, presenters
from shipments.redis_client import RedisUnavailable

from .errors import ApiError
from .schemas import ErrorOut, JobOut, RunOut

router = Router(tags=["Resync progress"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 429: ErrorOut}


@router.get("/jobs/{uuid:job_id}/", response={200: JobOut, **ERRORS}, url_name="job")
def job_status(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    """A single resync: `queued`, `running`, then `succeeded` or `failed` with a message."""
    job = selectors.resync_job_for_store(store=request.auth.store, job_id=job_id)
    if job is None:
        raise ApiError(404, "No such resync.")
    return presenters.job_payload(job)


@router.get("/sync-runs/{id:run_id}/", response={200: RunOut, **ERRORS}, url_name="sync_run")
def sync_run_detail(request: HttpRequest, run_id: int) -> dict[str, Any]:
    """A bulk resync's progress: counts of done, changed, unchanged and failed shipments."""
    store = request.auth.store
    run = selectors.sync_run_for_store(store=store, run_id=run_id)
    if run is None:
        raise ApiError(404, "No such sync run.")
    try:
        retry_after = cooldowns.bulk_retry_after(store.pk)
    except RedisUnavailable:
        retry_after = 0
    payload = presenters.sync_run_payload(run)
    payload.pop("failed_url", None)  # a merchant page
    return {
        **payload,
        "status_url": reverse("merchant_api:sync_run", args=[run.pk]),
        "retry_after": retry_after,
    }
