"""The merchant's settings page for shopper e-mails (`/app/settings/notifications/`).

HTML by default, JSON for `Accept: application/json`: `GET` → `{"enabled", "statuses"}`; a JSON
`POST` of the same shape saves (400 with `{"error", "fields"}` otherwise).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from resync_site.jsonbody import BadJSON, parse_json
from shipments.responses import json_error, wants_json
from shipments.scoping import merchant_view, stores_for_user

from . import presenters, services


def _posted(request: HttpRequest) -> dict[str, Any]:
    """The JSON body as it is, or the form's checkboxes turned into the same shape."""
    if request.content_type == "application/json":
        try:
            body = parse_json(request.body or b"{}")
        except BadJSON:
            raise ValidationError(_("The body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise ValidationError(_("Send an object with enabled and statuses."))
        return {"enabled": body.get("enabled"), "statuses": body.get("statuses")}
    return {
        "enabled": request.POST.get("enabled") == "on",
        "statuses": request.POST.getlist("statuses"),
    }


@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    store = request.store
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            posted = _posted(request)
            services.store_preferences_set(store=store, **posted)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            if wants_json(request):
                message = " ".join(m for ms in errors.values() for m in ms)
                return json_error(message, 400, fields=errors)
        else:
            if wants_json(request):
                return JsonResponse(presenters.preferences_payload(store=store))
            messages.success(request, _("Your e-mail settings were saved."))
            return redirect("notify:settings")
    if wants_json(request):
        return JsonResponse(presenters.preferences_payload(store=store))
    context = {
        "store": store,
        "stores": list(stores_for_user(request.user)),
        "errors": errors,
        **presenters.preferences_form(store=store),
    }
    return render(request, "notify/settings.html", context, status=400 if errors else 200)


@merchant_view
@require_POST
def test_email(request: HttpRequest) -> HttpResponse:
    """Send the shopper e-mail, with a sample parcel, to the signed-in user."""
    try:
        email = services.store_test_email_send(store=request.store, to_email=request.user.email)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if wants_json(request):
            return json_error(message, 400)
        messages.error(request, message)
        return redirect("notify:settings")
    if wants_json(request):
        return JsonResponse({"email": str(email.pk), "to": email.to_email}, status=202)
    messages.success(
        request, _("A test e-mail is on its way to %(address)s.") % {"address": email.to_email}
    )
    return redirect("notify:settings")
