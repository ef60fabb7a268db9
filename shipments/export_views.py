"""`/app/shipments/export.csv`: the Shipment tab's list, with its current filters, as CSV.

Its first columns are those of the CSV import (order_number, email, tracking_number, carrier,
shipped_at), dates in the store's time zone with their offset. A cell that a spreadsheet would
run as a formula (starting with =, +, -, @, a tab or a carriage return) is written with a `'`
before it, so it shows as typed and is never evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .models import Shipment
from .scoping import merchant_view
from .views import parse_filters

HEADER = (
    "order_number",
    "email",
    "tracking_number",
    "carrier",
    "shipped_at",
    "customer_name",
    "status",
    "last_synced_at",
    "tracking_url",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """The cell as a spreadsheet shows it but never runs it (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(FORMULA_START) else value


class _Echo:
    """A file-like object whose write returns the line (for csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _local(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    return value.astimezone(tz).isoformat() if value is not None else ""


def _lines(request: HttpRequest, shipments: Iterator[Shipment]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    tz = request.store.tz
    yield "\ufeff" + writer.writerow(HEADER)  # the BOM: spreadsheets then read UTF-8
    for s in shipments:
        cells = (
            s.order.order_number,
            s.order.customer_email,
            s.tracking_number,
            s.carrier or "",
            _local(s.shipped_at, tz),
            s.order.customer_name,
            s.status,
            _local(s.last_synced_at, tz),
            request.build_absolute_uri(s.get_tracking_url()),
        )
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])


@merchant_view
@require_GET
def shipment_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every shipment the Shipment tab lists with these filters (all pages), newest first."""
    filters = parse_filters(request.GET)
    shipments = selectors.shipment_list_for_store(store=request.store, filters=filters)
    stamp = timezone.now().astimezone(request.store.tz).strftime("%Y-%m-%d")
    response = StreamingHttpResponse(
        _lines(request, shipments.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="shipments-{request.store.slug}-{stamp}.csv"'
    )
    return response
