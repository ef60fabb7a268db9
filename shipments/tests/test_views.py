"""Merchant views: scoping, sign-in, the JSON contract (docs/contract.md §5), refusals, fragments, queries."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from shipments import cooldowns, selectors, services
from shipments.carriers import catalogue
from shipments.messages import clock
from shipments.models import (
    Membership,
    ResyncJob,
    ResyncRequest,
    RunState,
    SyncRun,
    SyncRunItem,
    TrackingEvent,
)
from shipments.redis_client import _client

from .fixtures import make_shipment, make_store, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SUCCESS = (
    "Shipment details are re-synced successfully! "
    "The latest info is now updated on the tracking page as well."
)
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture(autouse=True)
def _record_publications(published):
    """Tasks the views enqueue are recorded, not sent: a worker started for another module of
    the session must neither race these assertions nor act on rolled-back rows."""


@pytest.fixture
def redis_down():
    _client.cache_clear()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        yield
    _client.cache_clear()


def _run(store, **fields) -> SyncRun:
    fields.setdefault("window", "7d")
    fields.setdefault("source", "merchant")
    return SyncRun.objects.create(store=store, **fields)


def _event(shipment, hours_ago: float, description: str, **fields) -> TrackingEvent:
    return TrackingEvent.objects.create(
        shipment=shipment,
        occurred_at=timezone.now() - dt.timedelta(hours=hours_ago),
        status=fields.pop("status", "in_transit"),
        description=description,
        location=fields.pop("location", "Leipzig, DE"),
        fingerprint=uuid.uuid4().hex,
        **fields,
    )


def _merchant_urls(shipment, run, job) -> list[tuple[str, str]]:
    return [
        ("get", "/app/shipments/"),
        ("get", f"/app/shipments/{shipment.pk}/"),
        ("post", f"/app/shipments/{shipment.pk}/resync/"),
        ("get", f"/app/shipments/{shipment.pk}/resync/{job.pk}/"),
        ("get", f"/app/sync-runs/{run.pk}/"),
        ("post", "/app/shipments/resync/"),
    ]


# --- Sign-in and scoping --------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [{}, JSON])
def test_every_merchant_url_requires_sign_in(client, store, shipment, accept):
    run = _run(store)
    job = ResyncJob.objects.create(shipment=shipment, source="merchant")
    for method, url in _merchant_urls(shipment, run, job):
        response = getattr(client, method)(url, {"window": "7d"} if method == "post" else {})
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    assert not ResyncRequest.objects.exists()


@pytest.mark.parametrize("accept", [{}, JSON])
def test_another_stores_shipment_run_and_job_are_404(merchant_client, other_store, accept):
    theirs = make_shipment(other_store)
    run = _run(other_store)
    job = ResyncJob.objects.create(shipment=theirs, source="merchant")
    for method, url in _merchant_urls(theirs, run, job)[1:5]:
        response = getattr(merchant_client, method)(url, **accept)
        assert response.status_code == 404, url
    # Nothing was resynced, audited or cooled down for the other store.
    assert not ResyncRequest.objects.exists()
    assert cooldowns.shipment_retry_after(other_store.pk, theirs.pk) == 0


@pytest.mark.parametrize("accept", [{}, JSON])
def test_missing_objects_are_404(merchant_client, shipment, accept):
    mine_job = ResyncJob.objects.create(shipment=shipment, source="merchant")
    other = make_shipment(shipment.store)
    urls = [
        ("get", "/app/shipments/999999/"),
        ("post", "/app/shipments/999999/resync/"),
        ("get", f"/app/shipments/{shipment.pk}/resync/{uuid.uuid4()}/"),
        # A job of this store, asked for under another shipment's URL.
        ("get", f"/app/shipments/{other.pk}/resync/{mine_job.pk}/"),
        ("get", "/app/sync-runs/999999/"),
    ]
    for method, url in urls:
        assert getattr(merchant_client, method)(url, **accept).status_code == 404, url


def test_the_list_shows_only_the_current_store(merchant_client, store, other_store):
    mine = make_shipment(store)
    theirs = make_shipment(other_store)
    _run(other_store, state=RunState.RUNNING)
    data = merchant_client.get("/app/shipments/", **JSON).json()
    assert [row["id"] for row in data["results"]] == [mine.pk]
    assert data["sync"] is None
    html = merchant_client.get("/app/shipments/").content.decode()
    assert mine.tracking_number in html
    assert theirs.tracking_number not in html


def test_a_user_in_two_stores_switches_between_them(client, store, other_store):
    user = make_user("multi", store=store)
    Membership.objects.create(user=user, store=other_store)
    lonely = make_store(name="Not mine", slug="not-mine")
    in_other = make_shipment(other_store)
    client.force_login(user)
    html = client.get("/app/shipments/").content.decode()
    assert 'name="store"' in html
    assert "Other" in html
    assert in_other.tracking_number not in html
    response = client.post(reverse("shipments:switch_store"), {"store": other_store.pk})
    assert response.status_code == 303
    assert in_other.tracking_number in client.get("/app/shipments/").content.decode()
    assert client.get(f"/app/shipments/{in_other.pk}/").status_code == 200
    assert client.post(reverse("shipments:switch_store"), {"store": lonely.pk}).status_code == 404
    assert client.post(reverse("shipments:switch_store"), {"store": "x"}).status_code == 404


# --- The Shipment tab -----------------------------------------------------------------------------


def test_list_json_shape(merchant_client, store, shipment):
    shipment.last_synced_at = timezone.now()
    shipment.save()
    run = _run(store, state=RunState.COMPLETED, total=3, done=3, changed=1, unchanged=2)
    response = merchant_client.get("/app/shipments/", **JSON)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert {"count", "results", "sync", "bulk_retry_after"} <= set(data)
    assert data["count"] == 1
    assert data["bulk_retry_after"] == 0
    row = data["results"][0]
    assert set(row) == {
        "id",
        "order_number",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "last_synced_at",
        "tracking_url",
    }
    assert row["id"] == shipment.pk
    assert row["order_number"] == shipment.order.order_number
    assert (row["carrier"], row["status"]) == ("dhl", "pending")
    assert row["tracking_url"] == f"http://testserver/track/{shipment.public_token}/"
    for key in ("shipped_at", "last_synced_at"):
        assert ISO_WITH_OFFSET.match(row[key]), row[key]
        assert dt.datetime.fromisoformat(row[key]) == getattr(shipment, key)
    sync = data["sync"]
    assert sync["id"] == run.pk
    assert {
        k: sync[k] for k in ("state", "window", "total", "done", "changed", "unchanged", "failed")
    } == {
        "state": "completed",
        "window": "7d",
        "total": 3,
        "done": 3,
        "changed": 1,
        "unchanged": 2,
        "failed": 0,
    }
    assert {"started_at", "finished_at"} <= set(sync)


def test_list_filters_search_and_pagination(merchant_client, store):
    delivered = make_shipment(store, carrier="ups", status="delivered")
    in_transit = make_shipment(store, carrier="dhl", status="in_transit")
    for _ in range(3):
        make_shipment(store, carrier="fedex")

    def ids(**params):
        return [
            r["id"]
            for r in merchant_client.get("/app/shipments/", params, **JSON).json()["results"]
        ]

    assert ids(status="delivered") == [delivered.pk]
    assert ids(carrier="dhl") == [in_transit.pk]
    assert ids(status="delivered", carrier="dhl") == []
    assert ids(q=in_transit.tracking_number[-6:]) == [in_transit.pk]
    assert ids(q=delivered.order.order_number) == [delivered.pk]
    assert ids(q=delivered.order.order_number.lstrip("#")) == [delivered.pk]
    assert len(ids(status="nonsense")) == 5  # unknown values are ignored
    first = merchant_client.get("/app/shipments/", {"page_size": 10}, **JSON).json()
    assert first["count"] == 5
    page = merchant_client.get("/app/shipments/?page_size=10&page=1", **JSON).json()
    assert len(page["results"]) == 5
    html = merchant_client.get("/app/shipments/", {"status": "delivered"}).content.decode()
    assert delivered.tracking_number in html
    assert in_transit.tracking_number not in html


def test_pagination_links_keep_the_filters(merchant_client, store):
    for _ in range(12):
        make_shipment(store, carrier="ups")
    html = merchant_client.get("/app/shipments/", {"carrier": "ups", "page_size": 10}).content
    assert b"carrier=ups&amp;page_size=10&amp;page=2" in html
    data = merchant_client.get("/app/shipments/?carrier=ups&page_size=10&page=2", **JSON).json()
    assert len(data["results"]) == 2


def test_failed_shipments_of_a_run(merchant_client, store, other_store):
    ok, failed = make_shipment(store), make_shipment(store)
    run = _run(store, state=RunState.COMPLETED_WITH_ERRORS, total=2, done=2, unchanged=1, failed=1)
    SyncRunItem.objects.create(run=run, shipment=ok, carrier=ok.carrier, outcome="unchanged")
    SyncRunItem.objects.create(run=run, shipment=failed, carrier=failed.carrier, outcome="failed")
    url = f"/app/shipments/?run={run.pk}&outcome=failed"
    data = merchant_client.get(url, **JSON).json()
    assert [r["id"] for r in data["results"]] == [failed.pk]
    assert len(merchant_client.get(f"/app/shipments/?run={run.pk}", **JSON).json()["results"]) == 2
    html = merchant_client.get("/app/shipments/").content.decode()
    assert f"?run={run.pk}&amp;outcome=failed" in html
    # Another store's run filters to nothing.
    theirs = _run(other_store)
    assert merchant_client.get(f"/app/shipments/?run={theirs.pk}", **JSON).json()["count"] == 0


def test_list_rows_show_latest_event_and_outcome(merchant_client, store):
    shipment = make_shipment(store, status="in_transit")
    _event(shipment, 5, "Older event")
    _event(shipment, 1, "Arrived at <hub>", location="Köln, DE")
    failing = make_shipment(store, last_sync_outcome="error", last_sync_error="The carrier is busy")
    failing.last_synced_at = timezone.now() - dt.timedelta(minutes=3)
    failing.save()
    html = merchant_client.get("/app/shipments/").content.decode()
    assert "Arrived at &lt;hub&gt;" in html  # carrier text is escaped
    assert "Köln, DE" in html
    assert "Older event" not in html
    assert "The carrier is busy" in html
    assert "3\xa0minutes ago" in html or "3 minutes ago" in html
    assert 'class="badge status-in_transit"' in html
    assert "In transit" in html


def test_shipment_tab_query_count_does_not_grow_with_the_page(merchant_client, store):
    def count_queries(rows: int) -> int:
        for shipment in make_store_rows(store, rows):
            _event(shipment, 1, "Sorted")
        with CaptureQueriesContext(connection) as html:
            assert merchant_client.get("/app/shipments/?page_size=50").status_code == 200
        with CaptureQueriesContext(connection) as data:
            response = merchant_client.get("/app/shipments/?page_size=50", **JSON)
        assert len(response.json()["results"]) == rows
        return len(html), len(data)

    few = count_queries(5)
    store.shipments.all().delete()
    many = count_queries(50)
    assert few == many
    assert few[0] <= 9, few


def make_store_rows(store, count):
    return [make_shipment(store, carrier=("dhl", "ups", "fedex")[i % 3]) for i in range(count)]


def test_window_counts_are_one_query_and_match_the_runs(store, django_assert_num_queries):
    now = timezone.now()
    for hours in (0.5, 26, 24 * 5, 24 * 20, 24 * 45, 24 * 80):
        make_shipment(store, shipped_at=now - dt.timedelta(hours=hours))
    make_shipment(make_store(), shipped_at=now)
    with django_assert_num_queries(1):
        counts = selectors.window_counts(store=store, now=now)
    for window, count in counts.items():
        expected = services.store_window_queryset(store=store, window=window, now=now).count()
        assert count == expected, window
    assert counts["60d"] == 5


def test_list_page_has_the_resync_menu(merchant_client, store):
    make_shipment(store)
    html = merchant_client.get("/app/shipments/").content.decode()
    toggle = re.search(r"<button[^>]*data-resync-menu-toggle[^>]*>(.*?)</button>", html, re.S)
    assert toggle
    assert "Resync" in toggle.group(1)
    assert "disabled" not in toggle.group(0)
    for value, label in [
        ("today", "Today"),
        ("yesterday", "Yesterday"),
        ("7d", "Last 7 days"),
        ("30d", "Last 30 days"),
        ("60d", "Last 60 days"),
    ]:
        assert re.search(rf'name="window" value="{value}"[^>]*>\s*<span[^>]*>{label}</span>', html)
    assert 'action="/app/shipments/resync/"' in html
    assert "csrfmiddlewaretoken" in html
    assert "<progress" not in html  # no run yet
    assert "static/js/resync.js" in html
    assert "<script>" not in html


def test_list_page_during_a_cooldown_shows_when_resync_is_possible(merchant_client, store):
    run = _run(store, total=4, done=1, unchanged=1, state=RunState.RUNNING)
    cooldowns.acquire_bulk(store.pk, run_id=run.pk)
    html = merchant_client.get("/app/shipments/").content.decode()
    toggle = re.search(r"<button[^>]*data-resync-menu-toggle[^>]*>(.*?)</button>", html, re.S)
    assert "disabled" in toggle.group(0)
    assert re.search(r"Resync — available in (60:00|59:5\d)", toggle.group(1))
    assert 'data-retry-after="3600"' in html or 'data-retry-after="3599"' in html
    assert '<progress id="sync-progress" max="4" value="1"' in html
    assert "1 of 4 shipments (25 %)" in html
    assert f'data-sync-run="/app/sync-runs/{run.pk}/"' in html
    assert 'data-active="true"' in html
    data = merchant_client.get("/app/shipments/", **JSON).json()
    assert 3590 <= data["bulk_retry_after"] <= 3600


def test_fragments(merchant_client, store, shipment):
    run = _run(store)
    table = merchant_client.get("/app/shipments/", HTTP_X_FRAGMENT="table").content.decode()
    assert table.lstrip().startswith("<section")
    assert "data-shipment-table" in table
    assert "<html" not in table
    assert shipment.tracking_number in table
    panel = merchant_client.get(f"/app/sync-runs/{run.pk}/", HTTP_X_FRAGMENT="panel")
    assert "<html" not in panel.content.decode()
    assert b"data-sync-panel" in panel.content
    page = merchant_client.get(f"/app/sync-runs/{run.pk}/").content.decode()
    assert "<html" in page
    assert "data-sync-panel" in page
    details = merchant_client.get(f"/app/shipments/{shipment.pk}/", HTTP_X_FRAGMENT="details")
    assert b"<html" not in details.content
    assert b"data-timeline" in details.content
    assert "X-Fragment" in details["Vary"]


# --- Bulk resync ----------------------------------------------------------------------------------


def test_bulk_resync_accepted_json(
    merchant_client, store, merchant, published, django_capture_on_commit_callbacks
):
    make_shipment(store)
    make_shipment(store, shipped_at=timezone.now() - dt.timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/app/shipments/resync/", {"window": "7d"}, **JSON)
    assert response.status_code == 202
    data = response.json()
    run = SyncRun.objects.get()
    assert {k: data[k] for k in ("run", "state", "total")} == {
        "run": run.pk,
        "state": "queued",
        "total": 1,
    }
    assert data["status_url"] == f"/app/sync-runs/{run.pk}/"
    assert 3590 <= data["retry_after"] <= 3600
    assert (run.requested_by, run.source, run.window) == (merchant, "merchant", "7d")
    assert published == [("shipments.tasks.sync_run_dispatch", (run.pk,), "bulk")]
    progress = merchant_client.get(data["status_url"], **JSON).json()
    assert {
        "id",
        "state",
        "window",
        "total",
        "done",
        "changed",
        "unchanged",
        "failed",
        "started_at",
        "finished_at",
    } <= set(progress)
    assert (progress["id"], progress["state"], progress["total"]) == (run.pk, "queued", 1)
    assert progress["started_at"] is None
    assert progress["requested_by"] == "merchant"


def test_sync_run_json_datetimes_have_an_offset(merchant_client, store):
    now = timezone.now()
    run = _run(
        store,
        state=RunState.COMPLETED,
        total=1,
        done=1,
        changed=1,
        started_at=now,
        finished_at=now,
    )
    data = merchant_client.get(f"/app/sync-runs/{run.pk}/", **JSON).json()
    for key in ("started_at", "finished_at"):
        assert ISO_WITH_OFFSET.match(data[key])
    assert data["percent"] == 100


def test_bulk_resync_without_javascript_redirects_with_a_message(merchant_client, store):
    make_shipment(store)
    response = merchant_client.post("/app/shipments/resync/", {"window": "today"})
    assert response.status_code == 303
    assert response["Location"] == "/app/shipments/"
    page = merchant_client.get(response["Location"]).content.decode()
    assert "Resync of Today started: 1 shipment." in page


def test_second_bulk_resync_is_429_while_running_and_cooling_down(merchant_client, store):
    assert (
        merchant_client.post("/app/shipments/resync/", {"window": "7d"}, **JSON).status_code == 202
    )
    response = merchant_client.post("/app/shipments/resync/", {"window": "30d"}, **JSON)
    assert response.status_code == 429
    assert 3590 <= int(response["Retry-After"]) <= 3600
    data = response.json()
    assert data["retry_after"] == int(response["Retry-After"])
    assert data["error"].startswith("A resync of this store is in progress.")
    # The run finishes: still 429, now for the hour-long cooldown.
    SyncRun.objects.update(state=RunState.COMPLETED)
    cooldowns.release_bulk_run(store.pk, SyncRun.objects.get().pk)
    response = merchant_client.post("/app/shipments/resync/", {"window": "30d"}, **JSON)
    assert response.status_code == 429
    assert re.fullmatch(
        r"You can resync again in (59 min \d+ s|1 h 0 min)\.", response.json()["error"]
    )
    # And as a page for a browser without JavaScript.
    page = merchant_client.post("/app/shipments/resync/", {"window": "30d"})
    assert page.status_code == 429
    assert page["Retry-After"]
    assert "You can resync again in" in page.content.decode()
    assert SyncRun.objects.count() == 1


@pytest.mark.parametrize("window", ["", "90d", "7", "TODAY", "x" * 500])
def test_bad_window_is_400(merchant_client, store, window):
    response = merchant_client.post("/app/shipments/resync/", {"window": window}, **JSON)
    assert response.status_code == 400
    assert "Last 7 days" in response.json()["error"]
    assert merchant_client.post("/app/shipments/resync/", {"window": window}).status_code == 400
    assert not SyncRun.objects.exists()


def test_bulk_resync_takes_a_json_body_too(merchant_client, store):
    body = json.dumps({"window": "30d"})
    response = merchant_client.post(
        "/app/shipments/resync/", body, content_type="application/json", **JSON
    )
    assert response.status_code == 202
    assert SyncRun.objects.get().window == "30d"
    bad = merchant_client.post(
        "/app/shipments/resync/", "[1]", content_type="application/json", **JSON
    )
    assert bad.status_code == 400


def test_bad_window_wins_over_redis_down_and_cooldown(merchant_client, store, redis_down):
    response = merchant_client.post("/app/shipments/resync/", {"window": "1y"}, **JSON)
    assert response.status_code == 400


def test_bulk_resync_redis_down_is_503(merchant_client, store, redis_down):
    make_shipment(store)
    response = merchant_client.post("/app/shipments/resync/", {"window": "7d"}, **JSON)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["retry_after"] == int(response["Retry-After"])
    assert "temporarily unavailable" in response.json()["error"]
    assert not SyncRun.objects.exists()
    # The pages still render (the button just cannot tell the cooldown).
    assert merchant_client.get("/app/shipments/").status_code == 200
    assert merchant_client.get("/app/shipments/", **JSON).json()["bulk_retry_after"] == 0
    assert merchant_client.post("/app/shipments/resync/", {"window": "7d"}).status_code == 503


def test_bulk_resync_rejects_get(merchant_client):
    assert merchant_client.get("/app/shipments/resync/").status_code == 405


# --- Shipment details -----------------------------------------------------------------------------


def test_details_json_shape(merchant_client, store, shipment):
    shipment.estimated_delivery = timezone.now() + dt.timedelta(days=2)
    shipment.save()
    _event(shipment, 3, "Picked up", status="info_received", location="Berlin, DE")
    _event(shipment, 1, "In the hub", location="Leipzig, DE")
    response = merchant_client.get(f"/app/shipments/{shipment.pk}/", **JSON)
    data = response.json()
    assert {
        "id",
        "order_number",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "last_synced_at",
        "tracking_url",
        "events",
        "retry_after",
    } <= set(data)
    assert data["retry_after"] == 0
    assert [e["description"] for e in data["events"]] == ["In the hub", "Picked up"]
    assert set(data["events"][0]) >= {"occurred_at", "status", "description", "location"}
    assert ISO_WITH_OFFSET.match(data["events"][0]["occurred_at"])
    assert data["tracking_url"].startswith("http://testserver/track/")
    assert data["carrier_url"].startswith("https://")


def test_details_page(merchant_client, store, shipment):
    _event(shipment, 30, "First", location="Hamburg, DE")
    latest = _event(shipment, 1, "Latest <b>scan</b>", location="Berlin, DE")
    html = merchant_client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    assert html.index("Latest &lt;b&gt;scan&lt;/b&gt;") < html.index("First")
    local = latest.occurred_at.astimezone(store.tz)
    assert f'datetime="{local.isoformat()}"' in html  # the store's time zone
    assert f"http://testserver/track/{shipment.public_token}/" in html
    assert 'target="_blank" rel="noopener noreferrer"' in html
    assert "https://" in html
    form = re.search(r"<form[^>]*data-resync[^>]*>.*?</form>", html, re.S).group(0)
    assert f'action="/app/shipments/{shipment.pk}/resync/"' in form
    assert 'data-retry-after="0"' in form
    assert re.search(r"<button type=\"submit\"[^>]*>Resync</button>", form)
    assert "data-resync-status" in html
    assert 'aria-live="polite"' in html


def test_carrier_link_only_for_http(merchant_client, store, monkeypatch):
    shipment = make_shipment(store)
    monkeypatch.setattr(
        catalogue, "public_tracking_url", lambda code, n: f"javascript:alert('{n}')"
    )
    html = merchant_client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    assert "javascript:" not in html
    assert merchant_client.get(f"/app/shipments/{shipment.pk}/", **JSON).json()["carrier_url"] == ""


def test_single_resync_accepted_then_cooldown(
    merchant_client, shipment, published, django_capture_on_commit_callbacks
):
    url = f"/app/shipments/{shipment.pk}/resync/"
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(url, **JSON)
    assert response.status_code == 202
    data = response.json()
    job = ResyncJob.objects.get()
    assert data == {
        "job": str(job.pk),
        "state": "queued",
        "status_url": f"/app/shipments/{shipment.pk}/resync/{job.pk}/",
        "retry_after": 300,
    }
    assert published == [("shipments.tasks.resync_job_execute", (str(job.pk),), "interactive")]
    assert merchant_client.get(data["status_url"], **JSON).json() == {
        "state": "queued",
        "message": "",
        "changed": None,
    }
    ResyncJob.objects.filter(pk=job.pk).update(state="succeeded", message=SUCCESS, changed=True)
    assert merchant_client.get(data["status_url"], **JSON).json() == {
        "state": "succeeded",
        "message": SUCCESS,
        "changed": True,
    }
    assert SUCCESS in merchant_client.get(data["status_url"]).content.decode()

    again = merchant_client.post(url, **JSON)
    assert again.status_code == 429
    assert 295 <= int(again["Retry-After"]) <= 300
    assert re.fullmatch(r"You can resync again in (4 min \d+ s|5 min 0 s)\.", again.json()["error"])
    details = merchant_client.get(f"/app/shipments/{shipment.pk}/", **JSON).json()
    assert 295 <= details["retry_after"] <= 300
    # The page keeps the countdown and the last result after a reload.
    html = merchant_client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    button = re.search(r"<form[^>]*data-resync.*?(<button[^>]*>[^<]*</button>)", html, re.S).group(
        1
    )
    assert "disabled" in button
    assert re.search(r"Resync — available in (4:5\d|5:00)", button)
    assert SUCCESS in html


def test_single_resync_without_javascript_is_post_redirect_get(merchant_client, shipment):
    response = merchant_client.post(f"/app/shipments/{shipment.pk}/resync/")
    assert response.status_code == 303
    assert response["Location"] == f"/app/shipments/{shipment.pk}/"
    page = merchant_client.get(response["Location"]).content.decode()
    assert "Resync started." in page
    refused = merchant_client.post(f"/app/shipments/{shipment.pk}/resync/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "You can resync again in" in refused.content.decode()


def test_single_resync_cooldown_is_shared_with_the_tracking_page(merchant_client, shipment):
    services.shipment_resync(shipment=shipment, source="shopper", ip_address="10.0.0.9")
    response = merchant_client.post(f"/app/shipments/{shipment.pk}/resync/", **JSON)
    assert response.status_code == 429
    assert response.json()["retry_after"] >= 1


def test_single_resync_redis_down_is_503(merchant_client, shipment, redis_down):
    response = merchant_client.post(f"/app/shipments/{shipment.pk}/resync/", **JSON)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["retry_after"] >= 1
    assert not ResyncJob.objects.exists()
    page = merchant_client.get(f"/app/shipments/{shipment.pk}/")
    assert page.status_code == 200
    assert merchant_client.get(f"/app/shipments/{shipment.pk}/", **JSON).json()["retry_after"] == 0


def test_missing_shipment_is_404_before_redis_is_asked(merchant_client, redis_down):
    assert merchant_client.post("/app/shipments/424242/resync/", **JSON).status_code == 404


def test_clock():
    assert [clock(s) for s in (0, 9, 252, 3552, 3600)] == ["0:00", "0:09", "4:12", "59:12", "60:00"]
