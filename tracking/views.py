"""Public tracking pages (shopper-facing): lookup, tracking page, shopper resync.

Thin views: parse, call a selector or the resync service, answer HTML or JSON
(docs/contract.md §5).
Every view is wrapped by `public_page` (security headers, our own 404).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shipments.messages import (
    RESYNC_STARTED_NO_JS,
    SHOPPER_UPDATED,
    clock,
    humanize_wait,
    shopper_display_message,
    shopper_job_message,
)
from shipments.models import RequestSource, Store
from shipments.presenters import job_payload
from shipments.responses import client_ip, refused, resync_or_refusal, unavailable, wants_json
from shipments.services import ResyncVerdict, shipment_resync, shipment_resync_refuse_abuse

from . import limits
from .estimates import estimate_payload, unshipped_estimate
from .forms import LookupForm, NumberLookupForm
from .presenters import (
    lookup_branding,
    parcel_context,
    parcel_payload,
    tracking_context,
    tracking_payload,
)
from .safety import theme_css
from .security import public_page
from .selectors import (
    order_lookup,
    order_number_key,
    resync_job_for_shipment,
    shipment_for_token,
    shipment_for_tracking_number,
    shipment_ref_for_token,
    shipment_with_siblings,
    store_for_lookup,
    tracking_number_key,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

TIMELINE_FRAGMENT = "timeline"
NOT_FOUND = "no such tracking page"


def _found(value: T | None) -> T:
    """The selector's answer, or the public pages' 404 (one answer for anything not found)."""
    if value is None:
        raise Http404(NOT_FOUND)
    return value


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _fresh(response: HttpResponse, *vary: str) -> HttpResponse:
    add_never_cache_headers(response)
    patch_vary_headers(response, ["Accept", *vary])
    return response


# The resync jobs this browser started (newest first): the page shows only their results.
STARTED_JOBS_COOKIE = "resync_jobs"
MAX_STARTED_JOBS = 10

# --- Lookup ---------------------------------------------------------------------------------------


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    message = _("Too many lookups. Please try again in %(wait)s.") % {"wait": humanize_wait(wait)}
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": message, "retry_after": wait}, status=429)
    else:
        response = render(
            request, "tracking/too_many.html", {"message": message, "retry_after": wait}, status=429
        )
    response["Retry-After"] = str(wait)
    return response


def _lookup_data(request: HttpRequest) -> dict[str, str]:
    """The submitted fields; `order` is accepted for `order_number` (short links, store widgets)."""
    source = request.POST if request.method == "POST" else request.GET
    fields = ("order_number", "email", "store", "tracking_number")
    data = {key: source[key] for key in fields if key in source}
    if "order_number" not in data and "order" in source:
        data["order_number"] = source["order"]
    return data


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """`GET /track/` shows the form; the form POSTs (with CSRF) to the same URL. A GET that
    carries both `order_number` and `email` looks up too (for a store's own "track" box).

    `?store=<slug>` narrows the lookup to that store and brands the page with it; an unknown
    slug is the plain page, looking in every store. `?tracking_number=…` (without an order
    number) is the lookup by number alone (docs/contract.md §10)."""
    data = _lookup_data(request)
    if "tracking_number" in data and "order_number" not in data:
        return _number_lookup(request, data)
    if request.method != "POST" and not ("order_number" in data and "email" in data):
        form = LookupForm(initial={k: data[k] for k in ("order_number", "store") if k in data})
        return _fresh(_lookup_page(request, store_for_lookup(data.get("store", "")), form=form))

    try:
        wait = limits.lookup_wait(
            request,
            ip=client_ip(request),
            order_key=order_number_key(data.get("order_number", ""))[:80],
        )
    except limits.LimitsUnavailable:
        logger.warning("lookup rate limits unavailable: serving without them")
        wait = 0
    if wait:
        return _fresh(_too_many(request, wait))

    form = LookupForm(data)
    if not form.is_valid():
        if wants_json(request):
            return _fresh(
                JsonResponse(
                    {"error": _("Please correct the form."), "fields": form.errors.get_json_data()},
                    status=400,
                )
            )
        return _fresh(
            _lookup_page(request, store_for_lookup(data.get("store", "")), form=form, status=400)
        )

    # Found or not, the same two reads (the store when one is named, then the order).
    store = store_for_lookup(form.cleaned_data.get("store") or "")
    match = order_lookup(
        order_number=form.cleaned_data["order_number"],
        email=form.cleaned_data["email"],
        store=store,
    )
    if match is None:
        message = _(
            "We could not find an order with this order number and e-mail address. "
            "Please check both and try again."
        )
        if wants_json(request):
            return _fresh(JsonResponse({"error": message}, status=404))
        return _fresh(_lookup_page(request, store, form=form, status=404, not_found=message))
    if match.token is None:
        estimate = unshipped_estimate(rule=match.delivery_rule, placed_at=match.placed_at)
        if wants_json(request):
            body = {"tracking_url": None, "shipped": False, **estimate_payload(estimate)}
            return _fresh(JsonResponse(body))
        context = {"match": match, "estimate": estimate}
        return _fresh(render(request, "tracking/not_shipped.html", context))
    url = reverse("tracking:page", args=[match.token])
    if wants_json(request):
        return _fresh(JsonResponse({"tracking_url": request.build_absolute_uri(url)}))
    return _see_other(url)


NUMBER_FORM_IDS = "id_number_%s"  # the lookup page holds both forms: ids of their own


def _lookup_page(
    request: HttpRequest,
    store: Store | None,
    *,
    form: LookupForm | None = None,
    number_form: NumberLookupForm | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The lookup page (both forms), branded for `?store=` when it names a store."""
    initial = {"store": store.slug if store else ""}
    context = {
        "form": form or LookupForm(initial=initial),
        "number_form": number_form or NumberLookupForm(auto_id=NUMBER_FORM_IDS, initial=initial),
        **lookup_branding(store),
        **extra,
    }
    return render(request, "tracking/lookup.html", context, status=status)


def _number_lookup(request: HttpRequest, data: dict[str, str]) -> HttpResponse:
    """`/track/?tracking_number=…`: the parcel's status and scans without its order (no order
    number, no e-mail, no link to the token page). Rate-limited as the order lookup; not found
    is the lookup page's "not found", as for an order."""
    try:
        wait = limits.number_lookup_wait(
            request,
            ip=client_ip(request),
            number_key=tracking_number_key(data.get("tracking_number", ""))[:80],
        )
    except limits.LimitsUnavailable:
        logger.warning("lookup rate limits unavailable: serving without them")
        wait = 0
    if wait:
        return _fresh(_too_many(request, wait))
    form = NumberLookupForm(data, auto_id=NUMBER_FORM_IDS)
    if not form.is_valid():
        if wants_json(request):
            body = {"error": _("Please correct the form."), "fields": form.errors.get_json_data()}
            return _fresh(JsonResponse(body, status=400))
        return _fresh(
            _lookup_page(
                request, store_for_lookup(data.get("store", "")), number_form=form, status=400
            )
        )
    # The store when one is named, then the shipment; its scans when found.
    store = store_for_lookup(form.cleaned_data.get("store") or "")
    shipment = shipment_for_tracking_number(
        tracking_number=form.cleaned_data["tracking_number"], store=store
    )
    if shipment is None:
        message = _(
            "We could not find a parcel with this tracking number. Please check it and try again."
        )
        if wants_json(request):
            return _fresh(JsonResponse({"error": message}, status=404))
        return _fresh(_lookup_page(request, store, number_form=form, status=404, not_found=message))
    context = parcel_context(shipment)
    if wants_json(request):
        return _fresh(JsonResponse(parcel_payload(context)))
    return _fresh(render(request, "tracking/parcel.html", context))


@public_page
@require_safe
def store_theme(request: HttpRequest, slug: str) -> HttpResponse:
    """The lookup page's stylesheet for `?store=<slug>` (as `theme` is the tracking page's)."""
    store = _found(store_for_lookup(slug))
    response = HttpResponse(theme_css(store.accent_color), content_type="text/css")
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- Tracking page --------------------------------------------------------------------------------


@public_page
@require_safe
def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page, its JSON subset, or (header `X-Fragment: timeline`) the live part alone."""
    shipment, siblings = _found(shipment_with_siblings(token))
    context = tracking_context(shipment, siblings)
    job = context.get("last_job")
    if job is not None:
        # Only the resync this browser started: never someone else's result on a shared page.
        if str(job.pk) not in _started_jobs(request):
            context["last_job"] = None
        else:
            context["last_job_message"] = shopper_display_message(
                state=job.state, changed=job.changed, message=job.message
            )
    if wants_json(request):
        return _fresh(JsonResponse(tracking_payload(request, context)), "X-Fragment")
    context["retry_clock"] = clock(context["retry_after"])
    context["shopper_updated"] = SHOPPER_UPDATED
    template = "tracking/page.html"
    if request.headers.get("X-Fragment") == TIMELINE_FRAGMENT:
        template = "tracking/_timeline.html"
    return _fresh(render(request, template, context), "X-Fragment")


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
    back = shipment.get_tracking_url()
    ip = client_ip(request)
    try:
        wait = limits.resync_wait(request, ip=ip)
    except limits.LimitsUnavailable:
        return unavailable(request, back=back)
    if wait:
        logger.info("shopper resync refused: per-IP limit (%ss)", wait)
        verdict = shipment_resync_refuse_abuse(
            shipment=shipment, source=RequestSource.SHOPPER, ip_address=ip, retry_after=wait
        )
        return refused(request, verdict, back=back)
    verdict = resync_or_refusal(
        request,
        lambda: shipment_resync(shipment=shipment, source=RequestSource.SHOPPER, ip_address=ip),
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
    message = shopper_job_message(state=job.state, message=job.message)
    if wants_json(request):
        return _fresh(JsonResponse({**job_payload(job), "message": message}))
    display = shopper_display_message(state=job.state, changed=job.changed, message=job.message)
    context = {
        "job": job,
        "message": display,
        "shipment": shipment,
        "back_url": shipment.get_tracking_url(),
    }
    return _fresh(render(request, "tracking/job.html", context))
