"""Public tracking pages (shopper-facing)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from shipments.models import Shipment


def lookup(request: HttpRequest) -> HttpResponse:
    return render(request, "tracking/lookup.html", {})


def tracking_page(request: HttpRequest, token: str) -> HttpResponse:
    shipment = get_object_or_404(
        Shipment.objects.select_related("order", "store"), public_token=token
    )
    return render(request, "tracking/page.html", {"shipment": shipment})
