"""Merchant app views: parse the request, call one selector or service, render HTML or JSON.

Every page answers HTML by default and JSON for `Accept: application/json`
(docs/contract.md §5). A page that the scripts refresh in place renders one fragment of itself
when asked with the `X-Fragment` header (`table`, `panel`, `details`), so there is one view per
URL, not one per fragment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from . import cooldowns, presenters, selectors, services
from .messages import clock
from .models import BULK_WINDOWS, RequestSource, Shipment, ShipmentStatus, SyncRunItem
from .presenters import job_payload
from .redis_client import RedisUnavailable
from .responses import bad_request, client_ip, posted_field, resync_or_refusal, wants_json
from .scoping import InAnotherOfYourStores, merchant_view, stores_for_user, switch_store
from .windows import BadWindow, parse_window

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
FRAGMENT_HEADER = "X-Fragment"
RUN_NOTICE = "run-notice"  # the tag of a bulk run's "started" message (base.html)


# --- Small helpers --------------------------------------------------------------------------------


def _fragment(request: HttpRequest) -> str:
    return request.headers.get(FRAGMENT_HEADER, "")


def _see_other(url: str) -> HttpResponseRedirect:
    """POST-redirect-GET for browsers without JavaScript."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _seconds_or_zero(lookup: Callable[..., int], *args: int) -> int:
    """A cooldown's remaining seconds for display; without Redis the page still renders (the
    resync itself will answer 503)."""
    try:
        return lookup(*args)
    except RedisUnavailable:
        return 0


def _resync_labels(retry_after: int) -> dict[str, str]:
    """The Resync button's label in each state (the scripts reuse the templates)."""
    return {
        "label": _("Resync"),
        "label_busy": _("Resyncing…"),
        "label_wait": _("Resync — available in {time}"),
        "current": (
            _("Resync — available in {time}").format(time=clock(retry_after))
            if retry_after
            else _("Resync")
        ),
    }


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], **kwargs: Any
) -> HttpResponse:
    """Render in the store's time zone (dates on merchant pages are the store's local time)."""
    with timezone.override(request.store.tz):
        return render(request, template, {"store": request.store, **context}, **kwargs)


def get_shipment(request: HttpRequest, shipment_id: int) -> Shipment:
    shipment = selectors.shipment_for_store(store=request.store, shipment_id=shipment_id)
    if shipment is None:
        elsewhere = selectors.member_store_of_shipment(user=request.user, shipment_id=shipment_id)
        if elsewhere is not None:
            raise InAnotherOfYourStores(elsewhere)
        raise Http404(_("No such shipment."))
    return shipment


def parse_filters(query: Any) -> selectors.ShipmentFilters:
    """Unknown values are ignored rather than refused: a stale bookmark still shows a list."""
    status = query.get("status", "")
    carrier = query.get("carrier", "")
    outcome = query.get("outcome", "")
    run = query.get("run", "")
    return selectors.ShipmentFilters(
        status=status if status in ShipmentStatus.values else "",
        carrier=carrier if carrier in dict(presenters.carrier_choices()) else "",
        search=query.get("q", "").replace("\x00", "").strip()[:64],
        run_id=_small_int(run),
        outcome=outcome if outcome in SyncRunItem.Outcome.values else "",
    )


def _small_int(value: str) -> int | None:
    """A positive id from a query string, or None (no unicode digits, no bigint overflow)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _page_size(query: Any) -> int:
    value = _small_int(query.get("page_size", ""))
    return value if value in PAGE_SIZES else DEFAULT_PAGE_SIZE


# --- Shipment tab ---------------------------------------------------------------------------------


@merchant_view
@require_GET
@vary_on_headers("Accept", FRAGMENT_HEADER)
def shipment_list(request: HttpRequest) -> HttpResponse:
    store = request.store
    filters = parse_filters(request.GET)
    paginator = Paginator(
        selectors.shipment_list_for_store(store=store, filters=filters), _page_size(request.GET)
    )
    page = paginator.get_page(request.GET.get("page"))
    run = selectors.sync_run_latest(store=store)
    retry_after = _seconds_or_zero(cooldowns.bulk_retry_after, store.pk)

    if wants_json(request):
        return JsonResponse(
            {
                "count": paginator.count,
                "page": page.number,
                "num_pages": paginator.num_pages,
                "results": [
                    presenters.shipment_payload(
                        s, tracking_url=request.build_absolute_uri(s.get_tracking_url())
                    )
                    for s in page.object_list
                ],
                "sync": presenters.sync_run_payload(run) if run is not None else None,
                "bulk_retry_after": retry_after,
            }
        )

    query = request.GET.copy()
    query.pop("page", None)
    query.pop("menu", None)
    table = {
        "page": page,
        "filters": filters,
        "page_query": query.urlencode(),
        "carrier_options": presenters.carrier_choices(with_needs_carrier=False),
        # While a run goes, rows change under the reader: the table says so (and the script
        # refreshes it when the run ends).
        "table_updating": run is not None and run.is_active,
    }
    if _fragment(request) == "table":
        return _render(request, "shipments/_table.html", table)
    history = {"history": selectors.sync_run_history(store=store)}
    if _fragment(request) == "history":
        return _render(request, "shipments/_run_history.html", history)

    counts = selectors.window_counts(store=store, now=timezone.now())
    windows = [(w.value, w.label, counts[w.value]) for w in BULK_WINDOWS]
    busy = retry_after > 0 or (run is not None and run.is_active)
    context = {
        **table,
        **history,
        "run": run,
        "filter_run": (
            selectors.sync_run_for_store(store=store, run_id=filters.run_id)
            if filters.run_id
            else None
        ),
        "stores": list(stores_for_user(request.user)),
        "status_choices": presenters.status_choices(),
        "carrier_choices": presenters.carrier_choices(),
        "page_sizes": PAGE_SIZES,
        "page_size": _page_size(request.GET),
        "windows": windows,
        "bulk_retry_after": retry_after,
        "bulk_busy": busy,
        "bulk_labels": _resync_labels(retry_after),
        "menu_open": request.GET.get("menu") == "open" and not busy,
        "hide_run_notices": run is None or not run.is_active,
    }
    return _render(request, "shipments/list.html", context)


@merchant_view
@require_POST
def shipment_bulk_resync(request: HttpRequest) -> HttpResponse:
    """`POST /app/shipments/resync/` with `window=…`: 202, or 400 / 503 / 429 in that order."""
    store = request.store
    back = reverse("shipments:list")
    try:
        window = parse_window(posted_field(request, "window"))
    except BadWindow:
        message = _(
            "Choose a window to resync: Today, Yesterday, Last 7 days, Last 30 days or "
            "Last 60 days."
        )
        if wants_json(request):
            return bad_request(request, message, back=back)
        return render(
            request,
            "resync_problem.html",
            {"message": message, "back_url": back, "retry_after": 0},
            status=400,
        )
    verdict = resync_or_refusal(
        request,
        lambda: services.store_bulk_resync(
            store=store,
            window=window,
            source=RequestSource.MERCHANT,
            user=request.user,
            ip_address=client_ip(request),
        ),
        back=back,
    )
    if isinstance(verdict, HttpResponse):
        return verdict
    run = verdict.run
    message = ngettext(
        "Resync of %(window)s started: %(count)d shipment.",
        "Resync of %(window)s started: %(count)d shipments.",
        run.total,
    ) % {"window": run.get_window_display(), "count": run.total}
    if wants_json(request):
        return JsonResponse(
            {
                "run": run.pk,
                "state": "queued",
                "total": run.total,
                "status_url": reverse("shipments:sync_run", args=[run.pk]),
                "retry_after": verdict.retry_after,
                "message": message,
            },
            status=202,
        )
    # A "started" notice: the Shipment tab leaves it out once the run has ended (RUN_NOTICE).
    messages.success(request, message, extra_tags=RUN_NOTICE)
    return _see_other(back)


@merchant_view
@require_GET
@vary_on_headers("Accept", FRAGMENT_HEADER)
def sync_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A bulk run's progress: JSON for the poller, the panel fragment, or a page of its own."""
    run = selectors.sync_run_for_store(store=request.store, run_id=run_id)
    if run is None:
        raise Http404(_("No such sync run."))
    if wants_json(request):
        retry_after = _seconds_or_zero(cooldowns.bulk_retry_after, request.store.pk)
        return JsonResponse({**presenters.sync_run_payload(run), "retry_after": retry_after})
    template = "shipments/_sync_panel.html" if _fragment(request) == "panel" else None
    return _render(request, template or "shipments/sync_run.html", {"run": run})


@login_required
@require_POST
def store_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's stores the current one (404 for a store that is not theirs)."""
    store_id = _small_int(request.POST.get("store", ""))
    if store_id is None:
        raise Http404(_("No such store."))
    switch_store(request, store_id)
    # From the 404 of a shipment of that store: straight back to it.
    back = request.POST.get("next", "")
    if not (back.startswith("/app/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None)):
        back = reverse("shipments:list")
    return _see_other(back)


# --- Shipment details -----------------------------------------------------------------------------


@merchant_view
@require_GET
@vary_on_headers("Accept", FRAGMENT_HEADER)
def shipment_detail(request: HttpRequest, shipment_id: int) -> HttpResponse:
    store = request.store
    shipment = get_shipment(request, shipment_id)
    events = selectors.shipment_events(shipment=shipment)
    retry_after = _seconds_or_zero(cooldowns.shipment_retry_after, store.pk, shipment.pk)
    tracking_url = request.build_absolute_uri(shipment.get_tracking_url())

    if wants_json(request):
        return JsonResponse(
            presenters.shipment_detail_payload(
                shipment, events=events, tracking_url=tracking_url, retry_after=retry_after
            )
        )

    context = {
        "shipment": shipment,
        "events": events,
        "carrier_url": presenters.carrier_public_url(shipment),
        "correction": presenters.carrier_correction_choices(shipment),
    }
    if _fragment(request) == "details":
        return _render(request, "shipments/_details_body.html", context)
    # While the cooldown runs, the page says how the last resync went (also after a reload, and
    # for browsers without JavaScript, which come back here after their POST).
    job = selectors.resync_job_latest(shipment=shipment) if retry_after else None
    context |= {
        "tracking_url": tracking_url,
        "retry_after": retry_after,
        "resync_labels": _resync_labels(retry_after),
        "last_job": job,
        "stores": list(stores_for_user(request.user)),
    }
    return _render(request, "shipments/detail.html", context)


@merchant_view
@require_POST
def shipment_resync(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """`POST /app/shipments/<id>/resync/`: 202 with a job to poll, or 503 / 429."""
    shipment = get_shipment(request, shipment_id)
    back = shipment.get_absolute_url()
    verdict = resync_or_refusal(
        request,
        lambda: services.shipment_resync(
            shipment=shipment,
            source=RequestSource.MERCHANT,
            user=request.user,
            ip_address=client_ip(request),
        ),
        back=back,
    )
    if isinstance(verdict, HttpResponse):
        return verdict
    if wants_json(request):
        return JsonResponse(presenters.job_accepted_payload(shipment, verdict), status=202)
    messages.success(
        request,
        _("Resync started. Reload this page in a few seconds to see the latest info."),
    )
    return _see_other(back)


@merchant_view
@require_GET
@vary_on_headers("Accept")
def resync_job_status(request: HttpRequest, shipment_id: int, job_id: uuid.UUID) -> HttpResponse:
    """`GET status_url` → `{"state", "message", "changed"}`; a small page for a browser."""
    job = selectors.resync_job_for_store(
        store=request.store, shipment_id=shipment_id, job_id=job_id
    )
    if job is None:
        raise Http404(_("No such resync."))
    if wants_json(request):
        return JsonResponse(job_payload(job))
    return _render(request, "shipments/job_status.html", {"job": job, "shipment": job.shipment})
