"""The merchant's webhooks pages (`/app/settings/webhooks/`): endpoints, their delivery log,
redelivery. HTML by default, JSON for `Accept: application/json` (and JSON bodies).

The secret appears only in the answer to a create or a rotation; those answers are not cached.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from resync_site.jsonbody import BadJSON, parse_json
from shipments.responses import json_error, wants_json
from shipments.scoping import merchant_view

from . import presenters, selectors, services


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _posted(request: HttpRequest) -> dict[str, Any] | None:
    """The fields sent: a JSON object, or the form (None: a JSON body that is not an object)."""
    if request.content_type == "application/json":
        try:
            body = parse_json(request.body or b"{}")
        except BadJSON:
            return None
        return body if isinstance(body, dict) else None
    fields: dict[str, Any] = {}
    if "url" in request.POST:
        fields["url"] = request.POST.get("url", "")
    if "events" in request.POST or request.POST.get("form") == "endpoint":
        fields["events"] = request.POST.getlist("events")
    if "active" in request.POST:
        fields["active"] = request.POST.get("active") in ("1", "true", "on")
    return fields


def _invalid(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse | None:
    if wants_json(request) or request.content_type == "application/json":
        return json_error(_("Please correct the form."), 400, fields=errors)
    return None


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    """The store's endpoints, and a new one (`url`, `events`): the answer shows its secret."""
    store = request.store
    errors: dict[str, list[str]] = {}
    created = None
    if request.method == "POST":
        fields = _posted(request)
        if fields is None:
            return json_error(_("Send a JSON object."), 400)
        try:
            created = services.webhook_endpoint_create(
                store=store,
                url=fields.get("url"),
                events=fields.get("events", [e for e, _label in presenters.event_choices()]),
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if (answer := _invalid(request, errors)) is not None:
                return answer
        else:
            if wants_json(request) or request.content_type == "application/json":
                return _no_store(JsonResponse(presenters.secret_payload(created), status=201))
    items = selectors.webhook_endpoints_for_store(store=store)
    if wants_json(request):
        return JsonResponse({"results": [presenters.endpoint_payload(e) for e in items]})
    context = {
        "store": store,
        "endpoints": items,
        "created": created,
        "event_choices": presenters.event_choices(),
        "errors": errors,
        "posted": request.POST if errors else {},
    }
    with timezone.override(store.tz):
        response = render(request, "hooks/endpoints.html", context, status=400 if errors else 200)
    return _no_store(response)


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """One endpoint and its delivery log; a POST changes its URL, events or active flag."""
    store = request.store
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        fields = _posted(request)
        if fields is None:
            return json_error(_("Send a JSON object."), 400)
        active = fields.get("active")
        try:
            updated = services.webhook_endpoint_update(
                store=store,
                endpoint_id=endpoint_id,
                url=fields.get("url"),
                events=fields.get("events"),
                active=active if isinstance(active, bool) else None,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if (answer := _invalid(request, errors)) is not None:
                return answer
        else:
            if updated is None:
                raise Http404(_("No such webhook endpoint."))
            if wants_json(request):
                return JsonResponse(presenters.endpoint_payload(updated))
            messages.success(request, _("The endpoint was saved."))
            return redirect("hooks:endpoint", endpoint_id=updated.pk)
    found = selectors.webhook_endpoint_for_store(store=store, endpoint_id=endpoint_id)
    if found is None:
        raise Http404(_("No such webhook endpoint."))
    deliveries = selectors.webhook_deliveries_for_endpoint(endpoint=found)
    if wants_json(request):
        return JsonResponse(
            {
                **presenters.endpoint_payload(found),
                "deliveries": [presenters.delivery_payload(d) for d in deliveries],
            }
        )
    context = {
        "store": store,
        "endpoint": found,
        "deliveries": deliveries,
        "event_choices": presenters.event_choices(),
        "errors": errors,
    }
    with timezone.override(store.tz):
        return render(request, "hooks/endpoint.html", context, status=400 if errors else 200)


@merchant_view
@require_POST
def rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """A new secret, shown once in this answer; the old one stops signing at once."""
    rotated = services.webhook_endpoint_rotate_secret(store=request.store, endpoint_id=endpoint_id)
    if rotated is None:
        raise Http404(_("No such webhook endpoint."))
    if wants_json(request):
        return _no_store(JsonResponse(presenters.secret_payload(rotated)))
    context = {"store": request.store, "endpoint": rotated, "secret": rotated.secret}
    return _no_store(render(request, "hooks/secret.html", context))


@merchant_view
@require_POST
def delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    if not services.webhook_endpoint_delete(store=request.store, endpoint_id=endpoint_id):
        raise Http404(_("No such webhook endpoint."))
    if wants_json(request):
        return HttpResponse(status=204)
    messages.success(request, _("The endpoint was deleted."))
    return redirect("hooks:endpoints")


@merchant_view
@require_POST
def redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    """Send a delivery once more, now (a new attempt in its log, the same `id` in its body)."""
    attempt = services.webhook_delivery_redeliver(
        store=request.store, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    if attempt is None:
        raise Http404(_("No such delivery."))
    if wants_json(request):
        return JsonResponse({"attempt_id": attempt.pk, "state": attempt.state}, status=202)
    messages.success(request, _("The delivery is being sent again."))
    return redirect("hooks:endpoint", endpoint_id=endpoint_id)
