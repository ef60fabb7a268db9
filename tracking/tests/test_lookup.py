"""`/track/` lookup: order number + e-mail, no enumeration, rate limits."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shipments.tests.fixtures import make_shipment, make_store

from .conftest import make_order_shipment

pytestmark = pytest.mark.django_db

LOOKUP = "/track/"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _post(client: Client, order: str, email: str, **extra):
    return client.post(LOOKUP, {"order_number": order, "email": email}, **extra)


def _without(body: bytes, *typed: str) -> str:
    text = CSRF_INPUT.sub("", body.decode())
    for value in typed:
        text = text.replace(value, "")
    return text


def test_form_renders_with_labels_and_noindex(client):
    response = client.get(LOOKUP)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_order_number">Order number</label>' in html
    assert '<label for="id_email">E-mail address</label>' in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["X-Robots-Tag"] == "noindex"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_match_redirects_to_the_first_shipment(client, shop):
    first = make_order_shipment(shop, order_number="#1001", email="Jane.Doe@example.com")
    make_shipment(shop, order=first.order, carrier="ups")  # shipped later
    # Case-insensitive e-mail; order number without '#', with spaces.
    response = _post(client, "  1001 ", "jane.doe@EXAMPLE.com")
    assert response.status_code == 303
    assert response["Location"] == reverse("tracking:page", args=[first.public_token])
    # With the '#' typed too.
    assert _post(client, "# 1001", "Jane.Doe@example.com").status_code == 303


def test_match_by_get_for_a_stores_own_track_box(client, shop):
    shipment = make_order_shipment(shop, order_number="A-77", email="a@example.com")
    response = client.get(LOOKUP, {"order_number": "a-77", "email": "A@example.com"})
    assert response.status_code == 303
    assert response["Location"] == shipment.get_tracking_url()
    short = client.get(LOOKUP, {"order": "A-77", "email": "a@example.com"})
    assert short["Location"] == shipment.get_tracking_url()
    # Only the order number: the form, filled in, and no lookup yet.
    prefilled = client.get(LOOKUP, {"order": "A-77"})
    assert prefilled.status_code == 200
    assert 'value="A-77"' in prefilled.content.decode()


def test_match_as_json(client, shop):
    shipment = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    response = _post(client, "1001", "jane@example.com", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["tracking_url"].endswith(shipment.get_tracking_url())


def test_an_order_without_shipments_says_so(client, shop):
    shipment = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    order = shipment.order
    shipment.delete()
    response = _post(client, "1001", "jane@example.com")
    assert response.status_code == 200
    assert "has not shipped this order yet" in response.content.decode()
    assert order.order_number in response.content.decode()


def test_missing_order_and_wrong_email_are_indistinguishable(client, shop):
    make_order_shipment(shop, order_number="#1001", email="jane@example.com")

    with CaptureQueriesContext(connection) as wrong_email_queries:
        wrong_email = _post(client, "1001", "mallory@example.org")
    with CaptureQueriesContext(connection) as missing_queries:
        missing = _post(client, "9999", "mallory@example.org")

    assert wrong_email.status_code == missing.status_code == 404
    assert _without(wrong_email.content, "1001") == _without(missing.content, "9999")
    assert "could not find an order" in missing.content.decode()
    # The same database work in both cases.
    assert len(wrong_email_queries) == len(missing_queries)

    # JSON and the GET form answer alike too.
    json_a = _post(client, "1001", "x@example.org", HTTP_ACCEPT="application/json")
    json_b = _post(client, "1002", "x@example.org", HTTP_ACCEPT="application/json")
    assert json_a.status_code == json_b.status_code == 404
    assert json_a.json() == json_b.json()
    get_a = client.get(LOOKUP, {"order_number": "1001", "email": "x@example.org"})
    get_b = client.get(LOOKUP, {"order_number": "1003", "email": "x@example.org"})
    assert get_a.status_code == get_b.status_code == 404
    assert _without(get_a.content, "1001") == _without(get_b.content, "1003")


def test_echoed_input_is_escaped(client, shop):
    response = _post(client, '"><script>alert(1)</script>', "x@example.org")
    assert response.status_code == 404
    assert b"<script>alert(1)</script>" not in response.content


def test_an_order_of_another_store_with_the_same_number_needs_its_own_email(client, shop):
    other = make_store(name="Other", slug="other-shop")
    mine = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    theirs = make_order_shipment(other, order_number="#1001", email="bob@example.com")
    assert _post(client, "1001", "jane@example.com")["Location"] == mine.get_tracking_url()
    assert _post(client, "1001", "bob@example.com")["Location"] == theirs.get_tracking_url()
    # Scoped to a store (a store's own track box sends its slug): the other store's order
    # is not found there.
    scoped = client.post(
        LOOKUP, {"order_number": "1001", "email": "bob@example.com", "store": shop.slug}
    )
    assert scoped.status_code == 404


def test_invalid_input_is_400_without_touching_the_database(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = _post(client, "", "not-an-email")
    assert response.status_code == 400
    assert not [q for q in queries if "shipments_order" in q["sql"]]
    json = _post(client, "1", "nope", HTTP_ACCEPT="application/json")
    assert json.status_code == 400
    assert "email" in json.json()["fields"]


def test_rate_limit_per_ip_answers_429_with_retry_after(client, shop, settings):
    settings.TRACK_LOOKUP_RATE_PER_IP = "3/m"
    make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    for n in range(3):
        assert _post(client, f"{n}", "x@example.org").status_code == 404
    response = _post(client, "1001", "jane@example.com")  # even the right answer now waits
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many lookups" in response.content.decode()
    assert "Content-Security-Policy" in response
    json = _post(client, "1001", "jane@example.com", HTTP_ACCEPT="application/json")
    assert json.status_code == 429
    assert json.json()["retry_after"] == int(json["Retry-After"])
    # Another client is not affected.
    other = _post(client, "1001", "jane@example.com", REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 303


def test_rate_limit_per_order_number_across_ips(client, shop, settings):
    settings.TRACK_LOOKUP_RATE_PER_ORDER = "2/m"
    make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    for n in range(2):
        response = _post(client, "#1001", f"guess{n}@example.org", REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 404
    # Spelled differently, from yet another address: still the same order number.
    response = _post(client, " 1001", "jane@example.com", REMOTE_ADDR="198.51.100.77")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # Other order numbers go on.
    assert _post(client, "1002", "x@example.org", REMOTE_ADDR="198.51.100.78").status_code == 404


def test_lookup_keeps_working_when_redis_is_down(client, shop, redis_down):
    shipment = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    response = _post(client, "1001", "jane@example.com")
    assert response.status_code == 303
    assert response["Location"] == shipment.get_tracking_url()
    assert client.get(response["Location"]).status_code == 200
    assert _post(client, "1001", "bob@example.com").status_code == 404


def test_ipv6_clients_are_counted_per_64(client, shop, settings):
    settings.TRACK_LOOKUP_RATE_PER_IP = "2/m"
    for n in range(2):
        assert (
            _post(client, str(n), "x@example.org", REMOTE_ADDR=f"2001:db8::{n + 1}").status_code
            == 404
        )
    # Another address of the same /64 shares the count; another /64 does not.
    assert _post(client, "7", "x@example.org", REMOTE_ADDR="2001:db8::beef").status_code == 429
    assert _post(client, "7", "x@example.org", REMOTE_ADDR="2001:db8:1::1").status_code == 404
