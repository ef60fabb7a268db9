"""Security sweep: every merchant and public URL, with another store's ids, bad tokens and bad
input of every kind, answers 400/404 (or 403/429 where that is the rule) — never a 500, never
another store's data."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from shipments import services
from shipments.models import ResyncJob, SyncRun
from shipments.tests.fixtures import make_shipment, make_store, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
HUGE = "x" * 100_000
NEVER = {500, 502, 503}


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    mine, theirs = make_store(slug="mine"), make_store(slug="theirs")
    me = make_user("me", store=mine)
    my_shipment = make_shipment(mine, carrier="dhl")
    their_shipment = make_shipment(theirs, carrier="ups")
    with django_capture_on_commit_callbacks():
        their_job = services.shipment_resync(shipment=their_shipment, source="merchant").job
        their_run = services.store_bulk_resync(store=theirs, window="7d", source="merchant").run
    client = Client()
    client.force_login(me)
    return {
        "client": client,
        "mine": my_shipment,
        "theirs": their_shipment,
        "their_job": their_job,
        "their_run": their_run,
    }


def _check(response, *allowed: int) -> None:
    assert response.status_code not in NEVER, response.content[:300]
    assert response.status_code in allowed, (response.status_code, response.content[:300])


def test_another_stores_ids_answer_404_everywhere(world):
    client, theirs = world["client"], world["theirs"]
    job, run = world["their_job"], world["their_run"]
    urls = [
        ("get", f"/app/shipments/{theirs.pk}/"),
        ("post", f"/app/shipments/{theirs.pk}/resync/"),
        ("get", f"/app/shipments/{theirs.pk}/resync/{job.pk}/"),
        ("get", f"/app/shipments/{world['mine'].pk}/resync/{job.pk}/"),  # their job, my shipment
        ("get", f"/app/sync-runs/{run.pk}/"),
        ("get", f"/track/{world['mine'].public_token}/resync/{job.pk}/"),
    ]
    for method, url in urls:
        for extra in ({}, JSON):
            response = getattr(client, method)(url, **extra)
            _check(response, 404)
            assert theirs.tracking_number not in response.content.decode()
    # The store switcher will not switch to a store you are not a member of.
    _check(client.post("/app/stores/switch/", {"store": theirs.store_id}), 404, 400)
    for bad in ("²", "9" * 40, "", "abc"):
        _check(client.post("/app/stores/switch/", {"store": bad}), 404, 400)
    listing = client.get("/app/shipments/", **JSON).json()
    assert [r["tracking_number"] for r in listing["results"]] == [world["mine"].tracking_number]
    assert ResyncJob.objects.filter(shipment=theirs).count() == 1  # nothing new was queued
    assert SyncRun.objects.filter(store=theirs.store).count() == 1


@pytest.mark.parametrize(
    "token",
    ["nope", "a" * 500, "%00", "..%2F..%2Fetc", "%ff%fe", "' OR 1=1 --", "<script>"],
)
def test_bad_tokens_answer_404(client, world, token):
    for url in (f"/track/{token}/", f"/track/{token}/resync/", f"/track/{token}/theme.css"):
        _check(client.get(url), 404, 405)
        _check(client.get(url, **JSON), 404, 405)
    _check(client.post(f"/track/{token}/resync/", **JSON), 404, 403)


@pytest.mark.parametrize(
    "path",
    [
        "/app/shipments/abc/",
        "/app/shipments/-1/",
        "/app/sync-runs/1e3/",
        "/app/shipments/1/resync/not-a-uuid/",
        "/app/shipments/99999999999999999999/",
    ],
)
def test_non_numeric_and_out_of_range_ids_answer_404(world, path):
    _check(world["client"].get(path), 404)
    _check(world["client"].get(path, **JSON), 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"window": ""},
        {"window": "8d"},
        {"window": HUGE},
        {"window": ["7d", "30d"]},
        {"window": "7d\x00"},
    ],
)
def test_bad_bulk_windows_answer_400_with_a_clear_message(world, body):
    response = world["client"].post("/app/shipments/resync/", body, **JSON)
    _check(response, 400)
    assert "window" in response.json()["error"].lower() or "Choose" in response.json()["error"]


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("application/json", b'{"window": 7}'),
        ("application/json", b"[1, 2, 3]"),
        ("application/json", b'{"window": null}'),
        ("application/json", b"{not json"),
        ("application/json", b"\xff\xfe\xfd"),
        ("application/x-www-form-urlencoded", b"window=%ff%fe"),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xfd"),
        ("text/plain", HUGE.encode()),
    ],
)
def test_bad_bodies_never_500(world, content_type, raw):
    response = world["client"].generic(
        "POST", "/app/shipments/resync/", raw, content_type=content_type, **JSON
    )
    _check(response, 400)
    assert response.json()["error"]


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-5",
        "?page=999999999999999999999",
        "?status=bogus",
        "?carrier=%ff",
        f"?q={'y' * 5000}",
        "?q=%00",
        "?run=abc&outcome=failed",
        "?run=%C2%B2&outcome=failed",
        "?run=99999999999999999999999999&outcome=failed",
        "?page_size=%C2%B2",
        "?page=%C2%B2",
        "?run=1&outcome=<script>",
        "?status=delivered&status=pending",
    ],
)
def test_bad_list_filters_never_500(world, query):
    for extra in ({}, JSON):
        response = world["client"].get(f"/app/shipments/{query}", **extra)
        _check(response, 200, 400, 404)
        assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"order_number": "", "email": ""},
        {"order_number": HUGE, "email": HUGE},
        {"order_number": "#1", "email": "not-an-email"},
        {"order_number": ["a", "b"], "email": "x@example.com"},
        {"order_number": "\x00", "email": "a@b.c"},
    ],
)
def test_bad_lookups_never_500(client, world, data):
    for extra in ({}, JSON):
        _check(client.post("/track/", data, **extra), 400, 404)
    _check(client.get("/track/", data), 200, 400, 404)


def test_invalid_utf8_and_garbage_on_public_endpoints(client, world):
    token = world["mine"].public_token
    for path in ("/track/", f"/track/{token}/resync/"):
        for raw in (b"\xff\xfe\xfd", b"{", HUGE.encode()):
            response = client.generic("POST", path, raw, content_type="application/json", **JSON)
            assert response.status_code < 500


def test_login_with_huge_input_is_a_normal_failure(client):
    response = client.post("/accounts/login/", {"username": HUGE, "password": HUGE})
    _check(response, 200)


def test_admin_requires_staff(world):
    _check(world["client"].get("/admin/"), 302)
    response = Client().get("/admin/shipments/shipment/", **JSON)
    _check(response, 302)


def test_job_ids_are_not_enumerable(client, world):
    token = world["mine"].public_token
    _check(client.get(f"/track/{token}/resync/{uuid.uuid4()}/", **JSON), 404)
    body = client.get(f"/track/{token}/", **JSON).json()
    assert "id" not in json.dumps(body).replace('"tracking_', "").split('":')[0]
