"""Merchant app views (thin: parse, call a selector or service, render)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Shipment
from .scoping import merchant_view, scoped


@merchant_view
def shipment_list(request: HttpRequest) -> HttpResponse:
    shipments = scoped(Shipment.objects.select_related("order"), request.store)[:50]
    return render(request, "shipments/list.html", {"store": request.store, "shipments": shipments})


@merchant_view
def shipment_detail(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = get_object_or_404(
        scoped(Shipment.objects.select_related("order"), request.store), pk=shipment_id
    )
    return render(request, "shipments/detail.html", {"store": request.store, "shipment": shipment})
