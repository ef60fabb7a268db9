"""Helpers of the CSV import tests: files to upload and the rows they store."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from shipments.models import Order, Shipment, SyncRun, SyncRunItem

URL = "/app/shipments/import/"
JSON = {"HTTP_ACCEPT": "application/json"}
HEADER = "order_number,email,tracking_number,carrier,shipped_at"


def csv_file(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def upload(client, content: bytes | str, *, name: str = "shipments.csv", **extra):
    if isinstance(content, str):
        content = content.encode()
    return client.post(URL, {"file": SimpleUploadedFile(name, content, "text/csv")}, **extra)


def stored() -> tuple[int, int, int, int]:
    """Everything an import could write, counted (all stores)."""
    return (
        Order.objects.count(),
        Shipment.objects.count(),
        SyncRun.objects.count(),
        SyncRunItem.objects.count(),
    )


def many_rows(count: int, *, prefix: str = "BULK") -> bytes:
    return csv_file(
        *(f"#{n},buyer{n}@example.com,{prefix}{n:06d},dhl,2026-11-20" for n in range(count))
    )
