"""The merchant API through HTTP with real keys: auth, create (idempotent), list (filters,
pagination, updated_since), details, errors, scoping, never a 500 on bad input."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from connect import services
from shipments import services as shipment_services
from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.models import Order, Shipment, StoreCarrierMapping, TrackingEvent
from shipments.tests.fixtures import make_shipment

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "id",
    "order_number",
    "carrier",
    "tracking_number",
    "status",
    "shipped_at",
    "last_synced_at",
    "tracking_url",
}
UPS_NUMBER = "1Z999AA10123456784"


def _new(**fields) -> dict:
    return {
        "order_number": "#1001",
        "email": "shopper@example.com",
        "tracking_number": UPS_NUMBER,
        **fields,
    }


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


# --- Auth -----------------------------------------------------------------------------------------


def test_missing_wrong_or_revoked_key_is_401(client, store, api_key, shipment):
    api = ApiClient(client, api_key)
    urls = ["/api/v1/shipments/", f"/api/v1/shipments/{shipment.pk}/"]
    for url in urls:
        _error(api.get(url, key=""), 401, "unauthorized")
        _error(api.get(url, key="rsk_" + "A" * 43), 401, "unauthorized")
        _error(client.get(url, headers={"Authorization": api_key}), 401, "unauthorized")
        _error(client.get(url, headers={"Authorization": f"Token {api_key}"}), 401, "unauthorized")
        assert api.get(url).status_code == 200
    _error(api.post("/api/v1/shipments/", _new(), key=""), 401, "unauthorized")
    _error(api.post(f"/api/v1/shipments/{shipment.pk}/resync/", key="nope"), 401, "unauthorized")
    key = services.api_key_authenticate(raw_key=api_key)
    services.api_key_revoke(store=store, key_id=key.pk)
    response = api.get(urls[0])
    _error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Shipment.objects.exclude(pk=shipment.pk).exists()


def test_a_signed_in_merchant_without_a_key_is_401(merchant_client):
    _error(merchant_client.get("/api/v1/shipments/"), 401, "unauthorized")


def test_bearer_requests_need_no_csrf_token(api_key, store, published):
    from django.test import Client

    api = ApiClient(Client(enforce_csrf_checks=True), api_key)
    assert api.post("/api/v1/shipments/", _new()).status_code == 201


# --- Create ---------------------------------------------------------------------------------------


def test_create_is_201_then_200_with_the_same_id(api, store, published):
    first = api.post("/api/v1/shipments/", _new(carrier="ups"))
    assert first.status_code == 201
    data = first.json()
    assert set(data) == LIST_FIELDS
    assert data["order_number"] == "#1001"
    assert data["carrier"] == "ups"
    assert data["tracking_number"] == UPS_NUMBER
    assert data["status"] == "pending"
    assert data["tracking_url"].startswith("http://testserver/track/")
    again = api.post("/api/v1/shipments/", _new(carrier="UPS"))
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    # Spaces in the number are how people type it: the same shipment.
    spaced = api.post("/api/v1/shipments/", _new(tracking_number="1Z 999 AA1 0123 456 784"))
    assert (spaced.status_code, spaced.json()["id"]) == (200, data["id"])
    shipment = Shipment.objects.get()
    assert (shipment.store, shipment.order.customer_email) == (store, "shopper@example.com")


def test_create_enqueues_the_first_pull(api, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/shipments/", _new())
    assert response.status_code == 201
    assert published == [("shipments.tasks.first_pulls_flush", ("ups",), "bulk")]
    assert shipment_services.first_pulls_take(carrier="ups") == [("ups", [response.json()["id"]])]


@pytest.mark.parametrize(
    ("carrier", "number", "expected"),
    [
        ("UPS", UPS_NUMBER, "ups"),  # a carrier name
        ("fedex", "778144045380", "fedex"),  # a code
        ("  FedEx ", "778144045380", "fedex"),
        ("Our courier", "778144045380", "ups"),  # the store's own name for a carrier
        (None, UPS_NUMBER, "ups"),  # from the number's format
        ("", UPS_NUMBER, "ups"),
        ("Bob's Bikes", "ABC123", None),  # nothing fits: kept, without a carrier
        (None, "NOPE-1", None),
    ],
)
def test_carrier_by_name_code_mapping_number_or_none(
    api, store, published, carrier, number, expected
):
    StoreCarrierMapping.objects.create(store=store, name="Our courier", carrier="ups")
    response = api.post("/api/v1/shipments/", _new(carrier=carrier, tracking_number=number))
    assert response.status_code == 201
    assert response.json()["carrier"] == expected
    assert Shipment.objects.get().carrier == expected


def test_shipped_at_with_and_without_an_offset(api, store, published):
    response = api.post("/api/v1/shipments/", _new(shipped_at="2026-03-01T10:00:00+02:00"))
    assert response.json()["shipped_at"] == "2026-03-01T08:00:00+00:00"
    # No offset: the store's time zone (Europe/Berlin, UTC+1 in March).
    naive = api.post(
        "/api/v1/shipments/", _new(tracking_number="ABC123", shipped_at="2026-03-01T10:00:00")
    )
    assert naive.json()["shipped_at"] == "2026-03-01T09:00:00+00:00"


def test_validation_errors_are_400_with_fields(api, published):
    response = api.post(
        "/api/v1/shipments/",
        {"order_number": "", "email": "not-an-email", "tracking_number": "   ", "carrier": 5},
    )
    error = _error(response, 400, "validation_error")
    assert set(error["fields"]) == {"order_number", "email", "tracking_number", "carrier"}
    assert all(isinstance(m, list) and m for m in error["fields"].values())
    missing = _error(api.post("/api/v1/shipments/", {}), 400, "validation_error")
    assert set(missing["fields"]) == {"order_number", "email", "tracking_number"}
    long = _error(
        api.post("/api/v1/shipments/", _new(order_number="1" * 65, shipped_at="yesterday")),
        400,
        "validation_error",
    )
    assert set(long["fields"]) == {"order_number", "shipped_at"}
    assert not Shipment.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "",
        "[]",
        "null",
        '"a string"',
        "12",
        '{"order_number": {"a": 1}, "email": [], "tracking_number": 1e400}',
        '{"order_number": "#1\\u0000", "email": "a@b.co", "tracking_number": "X\\u0000"}',
        "[" * 100_000,
        '{"order_number": 99999999999999999999999999999, "email": "a@b.co", "tracking_number": 7}',
    ],
)
def test_malformed_bodies_are_400_never_500(api, body, published):
    response = api.post("/api/v1/shipments/", raw=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("bad_request", "validation_error")
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/shipments/99999999999999999999999999999/",
        "/api/v1/shipments/0/",
        "/api/v1/shipments/-1/",
        "/api/v1/shipments/abc/",
        "/api/v1/sync-runs/99999999999999999999999999999/",
        "/api/v1/jobs/not-a-uuid/",
        "/api/v1/nope/",
    ],
)
def test_odd_urls_are_json_404(api, url):
    _error(api.get(url), 404, "not_found")


def test_a_huge_id_to_resync_is_404(api):
    _error(api.post("/api/v1/shipments/99999999999999999999999999999/resync/"), 404, "not_found")


def test_a_missing_trailing_slash_is_a_404_that_says_so(api):
    error = _error(api.get("/api/v1/shipments"), 404, "not_found")
    assert "/api/v1/shipments/" in error["message"]


def test_a_wrong_method_is_a_json_405(api, shipment):
    response = api.client.delete(f"/api/v1/shipments/{shipment.pk}/", headers=api.headers())
    _error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_another_stores_ids_are_404(api, other_store, published):
    theirs = make_shipment(other_store)
    _error(api.get(f"/api/v1/shipments/{theirs.pk}/"), 404, "not_found")
    _error(api.post(f"/api/v1/shipments/{theirs.pk}/resync/"), 404, "not_found")
    their_job = services_resync_job(theirs)
    _error(api.get(f"/api/v1/jobs/{their_job}/"), 404, "not_found")
    _error(api.get(f"/api/v1/jobs/{uuid.uuid4()}/"), 404, "not_found")
    assert api.get("/api/v1/shipments/").json()["count"] == 0


def services_resync_job(shipment) -> str:
    from shipments import services as shipment_services

    return str(shipment_services.shipment_resync(shipment=shipment, source="merchant").job.pk)


# --- List -----------------------------------------------------------------------------------------


def test_list_filters(api, store, other_store):
    now = timezone.now()
    dhl = make_shipment(store, carrier="dhl", status="in_transit", shipped_at=now)
    ups = make_shipment(store, carrier="ups", status="delivered", shipped_at=now - dt.timedelta(1))
    none = make_shipment(
        store, carrier=None, tracking_number="NOPE-1", shipped_at=now - dt.timedelta(2)
    )
    make_shipment(other_store, carrier="dhl", status="in_transit")
    Order.objects.filter(pk=ups.order_id).update(order_number="#ZX4471")  # no other contains it
    ups.refresh_from_db()

    def ids(**query) -> list[int]:
        response = api.get("/api/v1/shipments/", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [dhl.pk, ups.pk, none.pk]
    assert ids(status="delivered") == [ups.pk]
    assert ids(carrier="dhl") == [dhl.pk]
    assert ids(carrier="none") == [none.pk]
    assert ids(q=ups.order.order_number.lstrip("#")) == [ups.pk]
    assert ids(q=dhl.tracking_number[-8:]) == [dhl.pk]
    assert ids(status="", carrier="", q="") == [dhl.pk, ups.pk, none.pk]
    row = api.get("/api/v1/shipments/", {"carrier": "none"}).json()["results"][0]
    assert set(row) == LIST_FIELDS
    assert row["carrier"] is None
    for bad in ({"status": "lost"}, {"carrier": "dhl-express"}, {"q": "x" * 65}, {"q": "a\x00"}):
        error = _error(api.get("/api/v1/shipments/", bad), 400, "validation_error")
        assert set(error["fields"]) == set(bad)


def test_updated_since(api, store):
    old = make_shipment(store)
    fresh = make_shipment(store)
    Shipment.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    since = (timezone.now() - dt.timedelta(days=1)).replace(microsecond=0)

    def ids(value: str) -> list[int]:
        response = api.get("/api/v1/shipments/", {"updated_since": value})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(since.isoformat()) == [fresh.pk]
    assert ids(since.strftime("%Y-%m-%dT%H:%M:%SZ")) == [fresh.pk]
    assert ids(since.strftime("%Y-%m-%dT%H:%M:%S")) == [fresh.pk]  # no offset: UTC
    berlin = since.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    assert ids(berlin) == [fresh.pk]
    # An unencoded "+" arrives as a space.
    assert api.get(f"/api/v1/shipments/?updated_since={berlin}").status_code == 200
    assert ids((timezone.now() - dt.timedelta(days=3)).isoformat()) == [fresh.pk, old.pk]
    # A pull that brings news counts as a change; one that brings nothing new does not.
    old.refresh_from_db()
    news = TrackingResult(
        carrier=old.carrier,
        tracking_number=old.tracking_number,
        status=Status.IN_TRANSIT,
        events=(TrackingEventData(timezone.now(), Status.IN_TRANSIT, "Departed facility"),),
    )
    now = timezone.now()
    shipment_services.shipments_apply_results(
        shipments=[old], results={old.tracking_number: news}, now=now
    )
    assert ids(since.isoformat()) == [fresh.pk, old.pk]
    Shipment.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    old.refresh_from_db()
    shipment_services.shipments_apply_results(
        shipments=[old], results={old.tracking_number: news}, now=now
    )
    assert ids(since.isoformat()) == [fresh.pk]
    error = _error(
        api.get("/api/v1/shipments/", {"updated_since": "last week"}), 400, "validation_error"
    )
    assert set(error["fields"]) == {"updated_since"}


def test_pagination(api, store):
    now = timezone.now()
    shipments = [make_shipment(store, shipped_at=now - dt.timedelta(hours=i)) for i in range(5)]
    first = api.get("/api/v1/shipments/", {"page_size": 2, "status": "pending"}).json()
    assert first["count"] == 5
    assert [r["id"] for r in first["results"]] == [s.pk for s in shipments[:2]]
    assert first["previous"] is None
    next_url = urlsplit(first["next"])
    assert next_url.path == "/api/v1/shipments/"
    assert parse_qs(next_url.query) == {"page_size": ["2"], "status": ["pending"], "page": ["2"]}
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [s.pk for s in shipments[2:4]]
    third = api.get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == [shipments[4].pk]
    assert third["next"] is None
    assert parse_qs(urlsplit(third["previous"]).query)["page"] == ["2"]
    beyond = api.get("/api/v1/shipments/", {"page": 9, "page_size": 2}).json()
    assert (beyond["count"], beyond["results"], beyond["next"]) == (5, [], None)
    default = api.get("/api/v1/shipments/").json()
    assert len(default["results"]) == 5
    for bad in ({"page": 0}, {"page": "x"}, {"page_size": 101}, {"page_size": 0}):
        _error(api.get("/api/v1/shipments/", bad), 400, "validation_error")
    assert api.get("/api/v1/shipments/", {"page": 10**30}).json()["results"] == []
    assert api.get("/api/v1/shipments/", {"page_size": 100}).status_code == 200


# --- Details --------------------------------------------------------------------------------------


def test_details_are_the_merchant_apps_json(api, merchant_client, store, shipment):
    TrackingEvent.objects.create(
        shipment=shipment,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        status="in_transit",
        description="Arrived at hub",
        location="Leipzig, DE",
        fingerprint="f1",
    )
    data = api.get(f"/api/v1/shipments/{shipment.pk}/").json()
    merchant = merchant_client.get(
        f"/app/shipments/{shipment.pk}/", HTTP_ACCEPT="application/json"
    ).json()
    assert LIST_FIELDS | {"events", "retry_after"} <= set(data)
    assert data["resync_url"] == f"/api/v1/shipments/{shipment.pk}/resync/"
    assert data["carrier_change_url"] == f"/api/v1/shipments/{shipment.pk}/carrier/"
    own_urls = ("resync_url", "carrier_change_url")
    assert {k: v for k, v in data.items() if k not in own_urls} == {
        k: v for k, v in merchant.items() if k not in own_urls
    }
    assert data["events"][0]["description"] == "Arrived at hub"
    assert data["retry_after"] == 0
