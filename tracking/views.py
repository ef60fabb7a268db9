"""Public tracking pages (shopper-facing): lookup, tracking page, shopper resync.

Thin views: parse, call a selector or the resync service, answer HTML or JSON
(docs/contract.md §5).
Every view is wrapped by `public_page` (security headers, our own 404).
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from resync_site.languages import LANG_PARAM, use_store_language
from shipments.messages import (
    RESYNC_STARTED_NO_JS,
    SHOPPER_UPDATED,
    clock,
    shopper_display_message,
    shopper_job_message,
)
from shipments.models import RequestSource
from shipments.presenters import job_payload
from shipments.responses import client_ip, resync_or_refusal, wants_json
from shipments.services import ResyncVerdict, shipment_resync

from . import limits, page_cache
from .presenters import (
    language_links,
    language_switcher,
    payload_for_request,
    tracking_context,
    tracking_payload,
)
from .responses import found as _found
from .responses import fresh as _fresh
from .responses import see_other as _see_other
from .safety import theme_css
from .security import public_page
from .selectors import (
    latest_job,
    resync_job_for_shipment,
    shipment_for_token,
    shipment_with_siblings,
)
from .token_rows import PageVersion, page_version_for_token, shipment_ref_for_token

logger = logging.getLogger(__name__)
T = TypeVar("T")

TIMELINE_FRAGMENT = "timeline"
NOT_FOUND = "no such tracking page"


# The resync jobs this browser started (newest first): the page shows only their results.
STARTED_JOBS_COOKIE = "resync_jobs"
MAX_STARTED_JOBS = 10


@public_page
@require_safe
def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page, its JSON subset, or (header `X-Fragment: timeline`) the live part alone.

    One query finds what the page depends on (`page_version_for_token`); the rendering kept
    under that version is used when there is one (`page_cache`), else the page is rendered from
    the database and kept. The parts that differ per request are rendered each time."""
    version = _found(page_version_for_token(token))
    use_store_language(request, version.default_language)
    if wants_json(request):
        variant = page_cache.JSON
    elif request.headers.get("X-Fragment") == TIMELINE_FRAGMENT:
        variant = page_cache.TIMELINE
    else:
        variant = page_cache.PAGE
    key = page_cache.page_key(token, version, variant=variant)
    stored, retry_after = page_cache.fetch(key, version)
    if stored is None:
        stored = _render(request, token, variant)
        page_cache.store(key, stored)
    if variant == page_cache.JSON:
        payload = payload_for_request(request, json.loads(stored), retry_after)
        return _fresh(JsonResponse(payload), "X-Fragment")
    html = page_cache.splice(
        stored,
        request,
        stale=lambda part: _part_differs(request, part, retry_after),
        live_context=lambda: _live_context(request, token, version, retry_after),
        last_updated=page_cache.last_updated_text(version),
    )
    return _fresh(HttpResponse(html), "X-Fragment")


def _render(request: HttpRequest, token: str, variant: str) -> str:
    """The page (or fragment, or JSON) from the database, as the page cache keeps it: its
    per-request parts as most requests see them (no cooldown, no job, no query string)."""
    shipment, siblings = _found(shipment_with_siblings(token))
    context = tracking_context(shipment, siblings, retry_after=0)
    if variant == page_cache.JSON:
        return json.dumps(tracking_payload(context), cls=DjangoJSONEncoder)
    if variant == page_cache.TIMELINE:
        return page_cache.render_for_cache("tracking/_timeline.html", context)
    context.update(
        retry_clock=clock(0),
        shopper_updated=SHOPPER_UPDATED,
        languages=language_links(request.path),
        last_job=None,
    )
    return page_cache.render_for_cache("tracking/page.html", context)


def _part_differs(request: HttpRequest, part: str, retry_after: int) -> bool:
    """Whether this request sees a live part otherwise than it is stored (`_render`)."""
    if part == "tracking/_resync.html":
        return retry_after > 0
    if part == "tracking/_languages.html":
        return any(name not in (LANG_PARAM, "email") for name in request.GET)
    if part == "tracking/_messages.html":
        return len(messages.get_messages(request)) > 0
    return True


def _live_context(
    request: HttpRequest, token: str, version: PageVersion, retry_after: int
) -> dict[str, Any]:
    """What the page's per-request parts show: the resync form (cooldown, CSRF token), the
    result of the resync this browser started, the language links (messages come from the
    context processor)."""
    context: dict[str, Any] = {
        "shipment": {"public_token": token},
        "time_zone": version.time_zone,
        "retry_after": retry_after,
        "retry_clock": clock(retry_after),
        "shopper_updated": SHOPPER_UPDATED,
        "languages": language_switcher(request),
        "last_job": None,
    }
    job = latest_job(version.shipment_id) if retry_after else None
    # Only the resync this browser started: never someone else's result on a shared page.
    if job is not None and str(job.pk) in _started_jobs(request):
        context["last_job"] = job
        context["last_job_message"] = shopper_display_message(
            state=job.state,
            changed=job.changed,
            message=job.message,
            latest_event_at=version.last_event_at,
            time_zone=version.time_zone,
        )
    return context


@public_page
@require_safe
def theme(request: HttpRequest, token: str) -> HttpResponse:
    """The store's accent colour as CSS custom properties (the CSP allows no inline style)."""
    shipment = _found(shipment_for_token(token))
    response = HttpResponse(theme_css(shipment.store.accent_color), content_type="text/css")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- Shopper resync -------------------------------------------------------------------------------


def _accepted(request: HttpRequest, token: str, verdict: ResyncVerdict) -> HttpResponse:
    job = verdict.job
    assert job is not None
    if wants_json(request):
        body: dict[str, Any] = {
            "job": str(job.pk),
            "state": job.state,
            "status_url": reverse("tracking:resync_status", args=[token, job.pk]),
            "retry_after": verdict.retry_after,
        }
        response: HttpResponse = JsonResponse(body, status=202)
    else:
        messages.success(request, str(RESYNC_STARTED_NO_JS))
        response = _see_other(reverse("tracking:page", args=[token]))
    started = [str(job.pk), *_started_jobs(request)][:MAX_STARTED_JOBS]
    response.set_signed_cookie(
        STARTED_JOBS_COOKIE,
        ",".join(started),
        salt=STARTED_JOBS_COOKIE,
        max_age=24 * 3600,
        path="/track/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _started_jobs(request: HttpRequest) -> list[str]:
    """The resync jobs this browser started (a signed cookie: no session row, no query)."""
    value = request.get_signed_cookie(
        STARTED_JOBS_COOKIE, default="", salt=STARTED_JOBS_COOKIE, max_age=24 * 3600
    )
    return [job for job in value.split(",") if job][:MAX_STARTED_JOBS]


@public_page
def unknown(request: HttpRequest) -> HttpResponse:
    """Any other URL under /track/: the public pages' own 404."""
    raise Http404(NOT_FOUND)


@public_page
@require_POST
def resync(request: HttpRequest, token: str) -> HttpResponse:
    """`POST /track/<token>/resync/`: the details page's resync, same shared cooldown, same
    answers (202 / 429 + Retry-After / 503 + Retry-After), plus a per-IP limit."""
    shipment = _found(shipment_ref_for_token(token))
    use_store_language(request, shipment.store.default_language)
    back = shipment.get_tracking_url()
    ip = client_ip(request)
    verdict = resync_or_refusal(
        request,
        lambda: shipment_resync(
            shipment=shipment,
            source=RequestSource.SHOPPER,
            ip_address=ip,
            client_limit=limits.resync_limit(ip),
        ),
        back=back,
    )
    if isinstance(verdict, HttpResponse):
        return verdict
    return _accepted(request, token, verdict)


@public_page
@require_safe
def resync_status(request: HttpRequest, token: str, job_id: str) -> HttpResponse:
    """`GET status_url` → `{"state", "message", "changed"}`; a job of another shipment is 404."""
    shipment = _found(shipment_ref_for_token(token))
    job = _found(resync_job_for_shipment(shipment=shipment, job_id=job_id))
    use_store_language(request, shipment.store.default_language)
    # A finished job's sentence is written again in the shopper's language.
    sentence = {
        "state": job.state,
        "message": job.message,
        "changed": job.changed,
        "latest_event_at": shipment.last_event_at,
        "time_zone": shipment.store.time_zone,
    }
    message = shopper_job_message(**sentence)
    if wants_json(request):
        return _fresh(JsonResponse({**job_payload(job), "message": message}))
    display = shopper_display_message(**{**sentence, "changed": bool(job.changed)})
    context = {
        "job": job,
        "message": display,
        "shipment": shipment,
        "back_url": shipment.get_tracking_url(),
    }
    return _fresh(render(request, "tracking/job.html", context))
