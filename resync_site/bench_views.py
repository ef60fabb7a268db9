"""The load benchmarks' ceiling (bench/): the most trivial page this stack can serve.

One row read by primary key, one tiny template, through the same middleware and the same
gunicorn as the real pages. Routed at `/bench/one-row/<pk>/` only when `BENCH_VIEWS=1`:
with the setting off this URLconf is empty.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from shipments.models import Shipment


def one_row(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = get_object_or_404(Shipment, pk=pk)
    return render(request, "bench/one_row.html", {"shipment": shipment})


app_name = "bench"
urlpatterns = [path("one-row/<int:pk>/", one_row, name="one_row")] if settings.BENCH_VIEWS else []
