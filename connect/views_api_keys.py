"""The merchant's API keys page (`/app/settings/api-keys/`): list, create (the key is shown once,
on the answer to the create), revoke. Scoped to the signed-in merchant's current store.

HTML by default, JSON for `Accept: application/json` (and a JSON body for scripted posts).
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

from shipments.responses import json_error, posted_field, unreadable_json, wants_json
from shipments.scoping import merchant_view

from . import presenters, selectors, services


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page that may hold a new key is never cached."""
    response["Cache-Control"] = "no-store"
    return response


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """The store's keys, and a new one (`name`): the answer shows the key, once."""
    store = request.store
    errors: dict[str, list[str]] = {}
    new_key, raw_key = None, ""
    if request.method == "POST" and unreadable_json(request):
        return json_error(_("The request body is not valid JSON."), 400)
    if request.method == "POST":
        try:
            new_key, raw_key = services.api_key_create(
                store=store, name=posted_field(request, "name"), created_by=request.user
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if wants_json(request):
                return json_error(_("Please correct the form."), 400, fields=errors)
        else:
            if wants_json(request):
                payload = {**presenters.api_key_payload(new_key), "key": raw_key}
                return _no_store(JsonResponse(payload, status=201))
    keys = selectors.api_keys_for_store(store=store)
    if wants_json(request):
        return JsonResponse({"results": [presenters.api_key_payload(k) for k in keys]})
    context: dict[str, Any] = {
        "store": store,
        "keys": keys,
        "new_key": new_key,
        "raw_key": raw_key,
        "errors": errors,
        "posted": request.POST if errors else {},
        "api_root": request.build_absolute_uri("/api/v1/"),
    }
    with timezone.override(store.tz):
        response = render(request, "connect/api_keys.html", context, status=400 if errors else 200)
    return _no_store(response)


@merchant_view
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the store's keys at once (another store's key answers 404)."""
    key = services.api_key_revoke(store=request.store, key_id=key_id)
    if key is None:
        raise Http404(_("No such API key."))
    if wants_json(request):
        return JsonResponse(presenters.api_key_payload(key))
    messages.success(
        request,
        _("The key %(name)s (%(prefix)s…) is revoked: requests with it are refused.")
        % {"name": key.name, "prefix": key.prefix},
    )
    return redirect("connect:api_keys")
