"""CSV import (`/app/shipments/import/`): a good file is stored whole, carriers mapped, one
import run pulls the new shipments; the same file again updates instead of duplicating."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipments import services
from shipments.carriers.numbers import example_number
from shipments.models import Order, RunState, Shipment, SyncRun, SyncWindow
from shipments.services.enqueue import SYNC_RUN_DISPATCH
from shipments.tests.fixtures import make_shipment, make_user

from .csv_helpers import JSON, URL, csv_file, many_rows, stored, upload

pytestmark = pytest.mark.django_db

UPS = example_number("ups", 11)
DHL = example_number("dhl", 12)
FEDEX = example_number("fedex", 13)


@pytest.fixture
def good_file(store) -> bytes:
    services.store_carrier_mapping_set(store=store, name="Our courier", carrier="fedex")
    return csv_file(
        f"#1001,ann@example.com,{UPS},ups,2026-11-20",  # a carrier code
        f"#1002,bob@example.com,{DHL},DHL Express,2026-11-20 14:30",  # a catalogue name
        "#1003,cy@example.com,PARCEL-1,Our courier,2026-11-20T14:30:00+01:00",  # the store's name
        f"#1004,dee@example.com,{FEDEX},,",  # no carrier: the number's format
        "#1005,eve@example.com,ZZ-UNKNOWN-9,Speedy Parcels,",  # nothing fits: "Needs carrier"
    )


def test_a_good_file_is_stored_with_carriers_mapped_and_one_import_run(
    merchant_client, merchant, store, good_file, published
):
    response = upload(merchant_client, good_file, **JSON)
    assert response.status_code == 201
    run = SyncRun.objects.get(store=store)
    assert response.json() == {"created": 5, "updated": 0, "run": run.pk}

    carriers = dict(Shipment.objects.filter(store=store).values_list("tracking_number", "carrier"))
    assert carriers == {
        UPS: "ups",
        DHL: "dhl",
        "PARCEL-1": "fedex",
        FEDEX: "fedex",
        "ZZ-UNKNOWN-9": None,
    }
    # The run pulls the four shipments with a carrier, requested by the merchant, queued.
    assert (run.window, run.total, run.state) == (SyncWindow.IMPORT, 4, RunState.QUEUED)
    assert run.requested_by == merchant
    assert set(run.items.values_list("shipment__tracking_number", flat=True)) == {
        UPS,
        DHL,
        "PARCEL-1",
        FEDEX,
    }
    assert Order.objects.get(store=store, order_number="#1002").customer_email == "bob@example.com"


def test_dates_are_the_stores_local_time_unless_an_offset_is_given(
    merchant_client, store, good_file, published
):
    # The store is in Berlin (UTC+1 in November).
    upload(merchant_client, good_file, **JSON)
    shipped = dict(
        Shipment.objects.filter(store=store).values_list("tracking_number", "shipped_at")
    )
    assert shipped[UPS] == dt.datetime(2026, 11, 19, 23, 0, tzinfo=dt.UTC)  # a date: midnight
    assert shipped[DHL] == dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC)
    assert shipped["PARCEL-1"] == dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC)


def test_the_run_is_dispatched_once_the_import_is_committed(
    merchant_client, store, good_file, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(merchant_client, good_file, **JSON)
    assert published == [(SYNC_RUN_DISPATCH, (response.json()["run"],), "bulk")]


def test_the_same_file_again_updates_and_duplicates_nothing(
    merchant_client, store, good_file, published
):
    upload(merchant_client, good_file, **JSON)
    before = stored()
    again = upload(merchant_client, good_file, **JSON)
    assert again.status_code == 201
    assert again.json() == {"created": 0, "updated": 5, "run": None}
    assert stored() == before


def test_a_byte_order_mark_and_semicolons_are_accepted(merchant_client, store, published):
    content = "\ufefforder_number;email;tracking_number\r\n#7;ann@example.com;AB 12 34\r\n"
    response = upload(merchant_client, content.encode(), **JSON)
    assert response.status_code == 201
    assert response.json()["created"] == 1
    # Spaces in the tracking number are removed; no carrier fits it, so there is no run.
    assert Shipment.objects.get(store=store).tracking_number == "AB1234"
    assert response.json()["run"] is None


def test_formula_cells_are_stored_as_typed(merchant_client, store, published):
    content = csv_file(
        "=1+1,ann@example.com,=HYPERLINK(1),,",
        "@SUM(A1),ann@example.com,+4912345,,",
        "-2,ann@example.com,-99,,",
    )
    assert upload(merchant_client, content, **JSON).status_code == 201
    assert set(
        Shipment.objects.filter(store=store).values_list("order__order_number", "tracking_number")
    ) == {("=1+1", "=HYPERLINK(1)"), ("@SUM(A1)", "+4912345"), ("-2", "-99")}


def test_another_stores_shipments_are_never_touched(merchant_client, store, other_store, published):
    theirs = make_shipment(other_store, carrier="ups", tracking_number=UPS)
    their_order = theirs.order
    content = csv_file(f"{their_order.order_number},new@example.com,{UPS},ups,2026-11-20")
    response = upload(merchant_client, content, **JSON)
    assert response.json()["created"] == 1
    theirs.refresh_from_db()
    their_order.refresh_from_db()
    assert theirs.shipped_at != dt.datetime(2026, 11, 19, 23, 0, tzinfo=dt.UTC)
    assert their_order.customer_email != "new@example.com"
    assert Shipment.objects.filter(store=other_store).count() == 1
    assert Shipment.objects.filter(store=store, tracking_number=UPS).count() == 1
    assert not SyncRun.objects.filter(store=other_store).exists()


def test_the_current_store_is_the_one_imported_into(client, store, other_store, published):
    user = make_user("both", store=store)
    user.memberships.create(store=other_store)
    client.force_login(user)
    client.post("/app/stores/switch/", {"store": other_store.pk})
    upload(client, csv_file("#1,ann@example.com,X-1,,"), **JSON)
    assert Shipment.objects.get().store == other_store


def test_ten_thousand_rows_are_accepted_and_ten_thousand_and_one_refused(
    merchant_client, store, published
):
    refused = upload(merchant_client, many_rows(10_001), **JSON)
    assert refused.status_code == 400
    assert "more than 10,000 rows" in refused.json()["errors"][0]["message"]
    assert stored() == (0, 0, 0, 0)

    accepted = upload(merchant_client, many_rows(10_000), **JSON)
    assert accepted.status_code == 201
    assert accepted.json()["created"] == 10_000
    assert SyncRun.objects.get(store=store).total == 10_000


def test_checking_and_storing_cost_no_query_per_row(merchant_client, store, published):
    def queries(count: int, prefix: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = upload(merchant_client, many_rows(count, prefix=prefix), **JSON)
        assert response.status_code == 201
        return len(captured)

    # The same queries for 10 rows as for 30 (one batch even on SQLite, whose statements take
    # at most 999 parameters: ~38 shipments an INSERT); 400 rows only add batches.
    assert queries(10, "A") == queries(30, "B")
    assert queries(400, "C") < 40


def test_the_html_upload_shows_counts_and_links_to_the_shipment_tab(
    merchant_client, store, good_file, published
):
    response = upload(merchant_client, good_file)
    assert response.status_code == 303
    assert response["Location"] == URL
    page = merchant_client.get(URL).content.decode()
    assert "5 shipments created" in page
    assert "0 updated" in page
    assert 'href="/app/shipments/#sync-panel"' in page
    # Shown once: a reload does not show it again.
    assert "shipments created" not in merchant_client.get(URL).content.decode()

    tab = merchant_client.get("/app/shipments/").content.decode()
    assert "<strong>Import</strong>" in tab
    assert "0 of 4 shipments" in tab
    assert f'href="{URL}"' in tab
    sync = merchant_client.get("/app/shipments/", **JSON).json()["sync"]
    assert (sync["window"], sync["window_label"], sync["total"]) == ("import", "Import", 4)
    assert sync["requested_by"] == "merchant"


def test_the_page_explains_the_format_and_the_template_imports_as_is(
    merchant_client, store, published
):
    page = merchant_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("<h1>Import shipments</h1>", 'for="import-file"', "ISO 8601", "2026-11-20 14:30"):
        assert text in html
    template = merchant_client.get("/app/shipments/import/template.csv")
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in template["Content-Disposition"]
    body = template.content
    assert body.decode("utf-8-sig").splitlines()[0] == (
        "order_number,email,tracking_number,carrier,shipped_at"
    )
    response = upload(merchant_client, body, **JSON)
    assert response.status_code == 201
    assert response.json()["created"] == 4


def test_the_page_as_json_says_the_columns_and_limits(merchant_client):
    assert merchant_client.get(URL, **JSON).json() == {
        "columns": ["order_number", "email", "tracking_number", "carrier", "shipped_at"],
        "required": ["order_number", "email", "tracking_number"],
        "max_rows": 10_000,
        "max_bytes": 5 * 1024 * 1024,
        "template_url": "/app/shipments/import/template.csv",
    }


def test_signed_out_is_sent_to_sign_in(client):
    for url in (URL, "/app/shipments/import/template.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    response = upload(client, csv_file("#1,ann@example.com,X-1,,"))
    assert response.status_code == 302
    assert stored() == (0, 0, 0, 0)
