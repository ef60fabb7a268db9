"""The merchant pages of issue #12: run history, the run's notices, error pages, one date-time
format in the store's zone (server-rendered checks; the browser ones are in test_browser_pages)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template import loader
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shipments.models import Membership, RunState, SyncRun, SyncRunItem, TrackingEvent

from .fixtures import make_shipment, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _record_publications(published):
    """Tasks the views enqueue are recorded, not sent."""


def _run(store, **fields) -> SyncRun:
    fields.setdefault("window", "7d")
    fields.setdefault("source", "merchant")
    return SyncRun.objects.create(store=store, **fields)


def _history(html: str) -> str:
    start = html.index('id="run-history"')
    return html[start : html.index("</section>", start)]


# --- 1. Run history -------------------------------------------------------------------------------


def test_run_history_lists_the_stores_runs_with_counts_and_failure_links(
    merchant_client, store, other_store, merchant
):
    started = timezone.now() - dt.timedelta(hours=1)
    bulk = _run(
        store,
        requested_by=merchant,
        state=RunState.COMPLETED_WITH_ERRORS,
        total=5,
        done=5,
        changed=2,
        unchanged=1,
        failed=2,
        started_at=started,
        finished_at=started + dt.timedelta(minutes=2),
    )
    imported = _run(
        store, window="import", source="ops", state=RunState.COMPLETED, total=3, done=3, unchanged=3
    )
    theirs = _run(other_store, total=9, done=9, failed=9, state=RunState.COMPLETED_WITH_ERRORS)

    html = _history(merchant_client.get("/app/shipments/").content.decode())
    assert "Run history" in html
    rows = re.findall(r'<tr data-run="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(pk) for pk, _ in rows] == [imported.pk, bulk.pk]  # newest first, ours only
    assert f'data-run="{theirs.pk}"' not in html
    bulk_row = dict(rows)[str(bulk.pk)]
    assert "Resync of Last 7 days" in bulk_row
    assert "Merchant" in bulk_row
    assert merchant.get_username() in bulk_row
    assert "Completed with errors" in bulk_row
    cells = re.findall(r'<td class="num">(.*?)</td>', bulk_row, re.S)
    assert [re.sub(r"<[^>]+>", "", c) for c in cells] == ["5", "2", "1", "2"]
    assert f"/app/shipments/?run={bulk.pk}&amp;outcome=failed" in bulk_row
    local = started.astimezone(store.tz)
    assert local.strftime("%-d %b %Y, %H:%M") in bulk_row
    import_row = dict(rows)[str(imported.pk)]
    assert "CSV import" in import_row
    assert "outcome=failed" not in import_row  # nothing failed: no link


def test_run_history_is_twenty_runs_and_costs_one_query(merchant_client, store, merchant):
    def page_queries() -> list[str]:
        with CaptureQueriesContext(connection) as seen:
            merchant_client.get("/app/shipments/")
        return [q["sql"] for q in seen.captured_queries]

    _run(store, requested_by=merchant, state=RunState.COMPLETED)
    few = page_queries()
    for _ in range(25):
        _run(store, requested_by=merchant, state=RunState.COMPLETED)
    many = page_queries()
    assert len(many) == len(few)  # no query per run (user names come with the runs)
    assert len([q for q in many if "LIMIT 20" in q and "shipments_syncrun" in q]) == 1
    html = merchant_client.get("/app/shipments/", HTTP_X_FRAGMENT="history").content.decode()
    assert html.lstrip().startswith("<section")
    assert "<html" not in html
    assert len(re.findall(r"<tr data-run=", html)) == 20


def test_run_history_failure_link_lists_the_failed_shipments(merchant_client, store):
    ok, failed = make_shipment(store), make_shipment(store)
    run = _run(store, state=RunState.COMPLETED_WITH_ERRORS, total=2, done=2, unchanged=1, failed=1)
    SyncRunItem.objects.create(run=run, shipment=ok, carrier=ok.carrier, outcome="unchanged")
    SyncRunItem.objects.create(run=run, shipment=failed, carrier=failed.carrier, outcome="failed")
    html = merchant_client.get(f"/app/shipments/?run={run.pk}&outcome=failed").content.decode()
    table = html[html.index("data-shipment-table") :]
    assert failed.tracking_number in table
    assert ok.tracking_number not in table


# --- 2. The run's notices -------------------------------------------------------------------------


def test_started_notice_and_table_note_show_while_the_run_goes(merchant_client, store):
    make_shipment(store)
    response = merchant_client.post("/app/shipments/resync/", {"window": "today"})
    page = merchant_client.get(response["Location"]).content.decode()
    assert "Resync of Today started: 1 shipment." in page
    assert "data-run-notice" in page
    assert "The table is being updated…" in page
    table = merchant_client.get("/app/shipments/", HTTP_X_FRAGMENT="table").content.decode()
    assert "The table is being updated…" in table


def test_started_notice_is_gone_once_the_run_ended(merchant_client, store):
    make_shipment(store)
    response = merchant_client.post("/app/shipments/resync/", {"window": "today"})
    # The worker is quick: the run is over before the browser follows the redirect.
    SyncRun.objects.filter(store=store).update(
        state=RunState.COMPLETED, done=1, unchanged=1, finished_at=timezone.now()
    )
    page = merchant_client.get(response["Location"]).content.decode()
    assert "started: 1 shipment" not in page
    assert "data-run-notice" not in page
    assert "The table is being updated…" not in page
    assert "Completed" in page
    table = merchant_client.get("/app/shipments/", HTTP_X_FRAGMENT="table").content.decode()
    assert "The table is being updated…" not in table


# --- 3. Error pages -------------------------------------------------------------------------------


def test_404_is_styled_with_a_way_back(merchant_client):
    response = merchant_client.get("/app/shipments/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<html" in html
    assert "css/app.css" in html
    assert "Page not found" in html
    assert 'href="/app/shipments/"' in html
    assert "Back to Shipments" in html
    assert "switch to it" not in html
    # A stray URL too; JSON clients get JSON.
    assert "Back to Shipments" in merchant_client.get("/nowhere/").content.decode()
    data = merchant_client.get("/app/shipments/999999/", HTTP_ACCEPT="application/json")
    assert data.status_code == 404
    assert data.json() == {"error": "Not found."}


def test_404_offers_to_switch_to_the_shipments_store_only_for_its_members(
    client, store, other_store
):
    theirs = make_shipment(other_store, tracking_number="1Z999AA10123456784")
    member = make_user("in-both", store=store)
    Membership.objects.create(user=member, store=other_store, role=Membership.Role.OWNER)
    client.force_login(member)
    response = client.get(f"/app/shipments/{theirs.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This shipment belongs to Other — switch to it?" in html
    assert f'action="{reverse("shipments:switch_store")}"' in html
    assert f'name="store" value="{other_store.pk}"' in html
    assert theirs.tracking_number not in html
    # The button switches and opens the shipment.
    switched = client.post(
        reverse("shipments:switch_store"),
        {"store": other_store.pk, "next": f"/app/shipments/{theirs.pk}/"},
    )
    assert switched.status_code == 303
    assert switched["Location"] == f"/app/shipments/{theirs.pk}/"
    assert client.get(switched["Location"]).status_code == 200
    # `next` never leaves the merchant app.
    away = client.post(
        reverse("shipments:switch_store"), {"store": store.pk, "next": "https://evil.example/"}
    )
    assert away["Location"] == "/app/shipments/"

    # A merchant of this store only: the plain 404, nothing about the other store.
    outsider = make_user("only-here", store=store)
    client.force_login(outsider)
    response = client.get(f"/app/shipments/{theirs.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Other" not in html.replace("Other carriers", "")
    assert "switch to it" not in html
    assert f'value="{other_store.pk}"' not in html
    assert "Page not found" in html


def test_403_is_styled_with_a_way_back(rf, merchant):
    from shipments.error_views import permission_denied

    request = rf.get("/app/shipments/")
    request.user = merchant
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot do that here" in html
    assert 'href="/app/shipments/"' in html


def test_500_renders_without_any_context(rf):
    from shipments.error_views import server_error

    html = loader.get_template("500.html").render()  # what Django itself does: no context
    assert "Something went wrong on our side" in html
    assert 'href="/app/shipments/"' in html
    assert "/static/" not in html  # no static files: nothing that can fail
    response = server_error(rf.get("/app/shipments/"))
    assert response.status_code == 500
    assert "Back to Shipments" in response.content.decode()


def test_a_view_crash_answers_the_styled_500(client, merchant, monkeypatch):
    from shipments import views

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.selectors, "shipment_list_for_store", boom)
    client.raise_request_exception = False
    client.force_login(merchant)
    response = client.get("/app/shipments/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# --- 4. One date-time format in the store's zone ---------------------------------------------------

ONE_FORMAT = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d\b")
# Seconds, "Nov. 20", "2:30 p.m.": formats that are not ours (the timeline adds a weekday only).
OTHER_FORMATS = re.compile(r"\d\d:\d\d:\d\d(?![.+\-\d])|\b[A-Z][a-z]{2}\. \d|\d [ap]\.m\.")


def _visible(html: str) -> str:
    """The page's text (no tags, no attributes: `datetime="…"` is ISO 8601 on purpose)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_dates_are_one_format_in_the_stores_zone(merchant_client, store, merchant):
    # 11:05 UTC is 12:05 in Berlin (winter) — every page shows 12:05.
    at = dt.datetime(2026, 1, 20, 11, 5, 42, tzinfo=dt.UTC)
    shipment = make_shipment(store, shipped_at=at, last_synced_at=at, last_success_at=at)
    shipment.order.placed_at = at
    shipment.order.save()
    TrackingEvent.objects.create(
        shipment=shipment,
        occurred_at=at,
        status="in_transit",
        description="Sorted",
        fingerprint=uuid.uuid4().hex,
    )
    _run(
        store,
        requested_by=merchant,
        state=RunState.COMPLETED,
        total=1,
        done=1,
        unchanged=1,
        started_at=at,
        finished_at=at,
    )
    expected = "20 Jan 2026, 12:05"
    pages = {
        "list": merchant_client.get("/app/shipments/").content.decode(),
        "details": merchant_client.get(f"/app/shipments/{shipment.pk}/").content.decode(),
        "tracking": merchant_client.get(shipment.get_tracking_url()).content.decode(),
    }
    list_text = _visible(pages["list"])
    panel = _visible(pages["list"][pages["list"].index("data-sync-panel") :])
    assert panel.count(expected) >= 2  # started and finished
    table = _visible(pages["list"][pages["list"].index("data-shipment-table") :])
    assert table.count(expected) == 2  # latest event and last synced
    history = _visible(_history(pages["list"]))
    assert history.count(expected) == 2
    details = _visible(pages["details"])
    assert details.count(expected) >= 4  # shipped, last update, placed, the timeline's event
    assert f"Tue {expected}" in details  # a timeline reads by day
    # The shopper's page reads its times the same way ("20 Jan 2026, 12:05").
    tracking = " ".join(_visible(pages["tracking"]).split()).replace(" ,", ",")
    assert expected in tracking
    for name, text in [("list", list_text), ("details", details), ("tracking", tracking)]:
        assert "11:05" not in text, name  # never UTC
        assert not OTHER_FORMATS.search(text), (name, OTHER_FORMATS.search(text))
        assert set(ONE_FORMAT.findall(text)) == {expected}, name
