"""Unsubscribing from shopper e-mails without signing in (the link and header in every e-mail).

`GET` shows a page with a button; `POST` unsubscribes the order. Mail clients' one-click
unsubscribe (RFC 8058) POSTs `List-Unsubscribe=One-Click` with no CSRF token, so this one view is
exempt from CSRF: the signed token in the URL is what authorises it, and all it can do is stop
e-mails for that order.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shipments.responses import json_error, wants_json

from . import selectors, services


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    order = selectors.order_for_unsubscribe_token(token=token)
    if order is None:
        if wants_json(request):
            return json_error(_("This link is not valid."), 404)
        return render(request, "notify/unsubscribe_invalid.html", status=404)
    context = {"order": order, "brand_name": order.store.brand_name}
    if request.method == "POST":
        services.order_unsubscribe(order=order)
        if wants_json(request):
            return JsonResponse({"unsubscribed": True})
        return render(request, "notify/unsubscribed.html", context)
    already = hasattr(order, "shopper_unsubscribe")
    if wants_json(request):
        return JsonResponse({"unsubscribed": already})
    return render(request, "notify/unsubscribe.html", {**context, "already": already})
