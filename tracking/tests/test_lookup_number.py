"""`/track/?tracking_number=…`: the parcel's status and scans, never its order (SPEC §10)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from shipments.tests.fixtures import make_store

from .conftest import add_event, make_order_shipment

pytestmark = pytest.mark.django_db

LOOKUP = "/track/"
JSON = {"HTTP_ACCEPT": "application/json"}
NUMBER = "JD014600006281230021"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def parcel(shop):
    shipment = make_order_shipment(
        shop,
        order_number="#1001",
        email="Jane.Doe@example.com",
        carrier="dhl",
        tracking_number=NUMBER,
        status="in_transit",
    )
    add_event(shipment, hours_ago=30, status="info_received", description="Label created")
    add_event(shipment, hours_ago=20, status="in_transit", description="Departed hub")
    return shipment


def _without(response, typed: str) -> str:
    return CSRF_INPUT.sub("", response.content.decode()).replace(typed, "")


def _order_details(parcel) -> list[str]:
    """What identifies the order (or reaches it): none of it may show."""
    return [
        "#1001",
        "1001",
        "Jane",
        "J***@example.com",
        "@example.com",
        parcel.public_token,
        "Order ",
    ]


def test_the_form_has_a_tracking_number_field(client, db):
    html = client.get(LOOKUP).content.decode()
    assert 'name="tracking_number"' in html
    assert "Track a parcel by its tracking number" in html


def test_found_shows_the_parcel_without_its_order(client, parcel):
    response = client.get(LOOKUP, {"tracking_number": "  jd0146 0000 6281230021 "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "In transit" in html
    assert "Departed hub" in html
    assert "Label created" in html
    assert NUMBER in html
    assert "Acme Outdoor" in html
    for secret in _order_details(parcel):
        assert secret not in html, secret
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_found_as_json_without_its_order(client, parcel):
    response = client.get(LOOKUP, {"tracking_number": NUMBER.lower()}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["tracking_number"] == NUMBER
    assert data["status"] == "in_transit"
    assert data["store"] == {"name": "Acme Outdoor"}
    assert [e["description"] for e in data["events"]] == ["Departed hub", "Label created"]
    assert {"estimated_delivery", "estimated_delivery_source", "estimated_delivery_latest"} <= set(
        data
    )
    for key in ("order_number", "customer_email", "tracking_url", "shipments", "retry_after"):
        assert key not in data
    text = json.dumps(data)
    for secret in _order_details(parcel):
        assert secret not in text, secret


def test_not_found_is_the_lookups_not_found(client, parcel):
    missing = client.get(LOOKUP, {"tracking_number": "NOPE123"})
    other = client.get(LOOKUP, {"tracking_number": "NOPE456"})
    assert missing.status_code == other.status_code == 404
    html = missing.content.decode()
    assert "could not find a parcel with this tracking number" in html
    assert 'value="NOPE123"' in html  # what was typed, echoed
    assert _without(missing, "NOPE123") == _without(other, "NOPE456")
    as_json = client.get(LOOKUP, {"tracking_number": "NOPE123"}, **JSON)
    assert as_json.status_code == 404
    assert set(as_json.json()) == {"error"}


def test_a_cancelled_shipment_is_not_found(client, parcel):
    parcel.cancelled_at = timezone.now()
    parcel.save(update_fields=["cancelled_at"])
    assert client.get(LOOKUP, {"tracking_number": NUMBER}).status_code == 404


def test_empty_or_overlong_input_is_400(client, db):
    assert client.get(LOOKUP, {"tracking_number": ""}).status_code == 400
    response = client.get(LOOKUP, {"tracking_number": "9" * 81}, **JSON)
    assert response.status_code == 400
    assert "tracking_number" in response.json()["fields"]


def test_the_same_number_in_two_stores_finds_the_newest_and_store_narrows(client, parcel):
    other = make_store(name="Other Shop", slug="other-shop", time_zone="UTC")
    newer = make_order_shipment(
        other, order_number="#77", carrier="ups", tracking_number=NUMBER, status="delivered"
    )
    newer.shipped_at = timezone.now()
    newer.save(update_fields=["shipped_at"])
    parcel.shipped_at = timezone.now() - dt.timedelta(days=3)
    parcel.save(update_fields=["shipped_at"])

    assert client.get(LOOKUP, {"tracking_number": NUMBER}, **JSON).json()["status"] == "delivered"
    narrowed = client.get(LOOKUP, {"tracking_number": NUMBER, "store": parcel.store.slug}, **JSON)
    assert narrowed.json()["status"] == "in_transit"
    # Narrowed to a store without it: not found, on that store's branded page.
    third = make_store(name="Third", slug="third", display_name="Third Shop")
    page = client.get(LOOKUP, {"tracking_number": NUMBER, "store": third.slug})
    assert page.status_code == 404
    assert "Third Shop" in page.content.decode()


def test_queries_stay_constant(client, parcel, django_assert_num_queries):
    for n in range(5):  # more stores, more shipments: the same work
        store = make_store(name=f"Shop {n}", slug=f"shop-{n}")
        make_order_shipment(store, carrier="dhl", tracking_number=f"{NUMBER}{n}")
    with django_assert_num_queries(2):  # the shipment with its store, then its scans
        assert client.get(LOOKUP, {"tracking_number": NUMBER}).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(LOOKUP, {"tracking_number": NUMBER}, **JSON).status_code == 200
    with django_assert_num_queries(3):  # the named store first
        found = client.get(LOOKUP, {"tracking_number": NUMBER, "store": parcel.store.slug})
        assert found.status_code == 200
    with django_assert_num_queries(1):
        assert client.get(LOOKUP, {"tracking_number": "NOPE"}).status_code == 404


def test_rate_limited_per_number_across_ips(client, parcel, settings):
    settings.TRACK_LOOKUP_RATE_PER_ORDER = "2/m"
    for n in range(2):
        response = client.get(LOOKUP, {"tracking_number": NUMBER}, REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 200
    # Spelled differently, from another address: the same number.
    response = client.get(
        LOOKUP, {"tracking_number": NUMBER.lower()}, REMOTE_ADDR="198.51.100.50", **JSON
    )
    assert response.status_code == 429
    assert response.json()["retry_after"] == int(response["Retry-After"]) >= 1
    other = client.get(LOOKUP, {"tracking_number": "OTHER1"}, REMOTE_ADDR="198.51.100.51")
    assert other.status_code == 404


def test_rate_limited_per_ip_with_the_order_lookups(client, parcel, settings):
    settings.TRACK_LOOKUP_RATE_PER_IP = "3/m"
    client.post(LOOKUP, {"order_number": "1", "email": "x@example.org"})
    client.get(LOOKUP, {"tracking_number": "A1"})
    client.get(LOOKUP, {"tracking_number": "A2"})
    response = client.get(LOOKUP, {"tracking_number": NUMBER})
    assert response.status_code == 429
    assert "Too many lookups" in response.content.decode()


def test_keeps_working_when_redis_is_down(client, parcel, redis_down):
    assert client.get(LOOKUP, {"tracking_number": NUMBER}).status_code == 200
