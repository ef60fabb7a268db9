"""`/app/shipments/export.csv`: the Shipment tab's filtered list as CSV, formula-looking cells
escaped, another store's shipments never in it; linked from the Shipment tab."""

from __future__ import annotations

import csv
import io

import pytest

from shipments.models import ShipmentStatus
from shipments.tests.fixtures import make_shipment

from .csv_helpers import JSON, csv_file, upload

pytestmark = pytest.mark.django_db

EXPORT = "/app/shipments/export.csv"


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_formula_cells_are_escaped_in_the_export(merchant_client, store, published):
    content = csv_file(
        "=1+1,ann@example.com,=HYPERLINK(1),,",
        "@SUM(A1),ann@example.com,+4912345,,",
        "-2,ann@example.com,-99,,",
        "#4,ann@example.com,SAFE-1,,",
    )
    assert upload(merchant_client, content, **JSON).status_code == 201
    rows = {r["tracking_number"]: r for r in _rows(merchant_client.get(EXPORT))}
    assert set(rows) == {"'=HYPERLINK(1)", "'+4912345", "'-99", "SAFE-1"}
    assert rows["'=HYPERLINK(1)"]["order_number"] == "'=1+1"
    assert rows["'+4912345"]["order_number"] == "'@SUM(A1)"
    assert rows["'-99"]["order_number"] == "'-2"
    assert rows["SAFE-1"]["order_number"] == "#4"
    assert rows["SAFE-1"]["email"] == "ann@example.com"


def test_the_export_follows_the_filters_and_the_store(merchant_client, store, other_store):
    delivered = make_shipment(store, carrier="ups", status=ShipmentStatus.DELIVERED)
    in_transit = make_shipment(store, carrier="dhl", status=ShipmentStatus.IN_TRANSIT)
    theirs = make_shipment(other_store, carrier="ups", status=ShipmentStatus.DELIVERED)
    everything = _rows(merchant_client.get(EXPORT))
    assert {r["tracking_number"] for r in everything} == {
        delivered.tracking_number,
        in_transit.tracking_number,
    }
    filtered = _rows(merchant_client.get(EXPORT, {"status": "delivered"}))
    assert [r["tracking_number"] for r in filtered] == [delivered.tracking_number]
    assert filtered[0]["carrier"] == "ups"
    assert filtered[0]["shipped_at"].endswith("+01:00")  # Berlin in November
    assert theirs.tracking_number not in str(everything)


def test_the_exported_file_imports_again(merchant_client, store, published):
    content = csv_file("#1,ann@example.com,X-1,ups,2026-11-20", "#2,bob@example.com,X-2,,")
    upload(merchant_client, content, **JSON)
    exported = b"".join(merchant_client.get(EXPORT).streaming_content)
    again = upload(merchant_client, exported, **JSON)
    assert again.status_code == 201
    assert again.json() == {"created": 0, "updated": 2, "run": None}


def test_the_shipment_tab_links_import_and_the_filtered_export(merchant_client, store):
    html = merchant_client.get("/app/shipments/", {"status": "delivered"}).content.decode()
    assert 'href="/app/shipments/import/"' in html
    assert 'href="/app/shipments/export.csv?status=delivered"' in html


def test_signed_out_export_is_sent_to_sign_in(client):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
