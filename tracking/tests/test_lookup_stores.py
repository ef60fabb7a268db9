"""`/track/` lookup across stores: the same order number in many stores, `?store=<slug>`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shipments.tests.fixtures import make_store

from .conftest import make_order_shipment

pytestmark = pytest.mark.django_db

LOOKUP = "/track/"
JSON = {"HTTP_ACCEPT": "application/json"}


def _stores_with_1001(count: int, prefix: str = "shop") -> list:
    """`count` stores, each with an order `#1001` of its own shopper; the first is the oldest."""
    shipments = []
    for n in range(count):
        store = make_store(name=f"Shop {n}", slug=f"{prefix}-{n}")
        shipment = make_order_shipment(store, order_number="#1001", email=f"buyer{n}@example.com")
        shipment.order.placed_at = timezone.now() - dt.timedelta(days=count - n)
        shipment.order.save(update_fields=["placed_at"])
        shipments.append(shipment)
    return shipments


def test_the_oldest_stores_shopper_finds_their_order_among_25(client, django_assert_num_queries):
    shipments = _stores_with_1001(25)
    oldest = shipments[0]
    with django_assert_num_queries(1):
        response = client.post(LOOKUP, {"order_number": "1001", "email": "Buyer0@Example.com"})
    assert response.status_code == 303
    assert response["Location"] == oldest.get_tracking_url()
    # Every store's shopper finds their own, with the same single query.
    for n in (1, 12, 24):
        with django_assert_num_queries(1):
            found = client.post(LOOKUP, {"order_number": "#1001", "email": f"buyer{n}@example.com"})
        assert found["Location"] == shipments[n].get_tracking_url()


def test_the_query_count_does_not_grow_with_the_stores(client, django_assert_num_queries):
    _stores_with_1001(3)
    with django_assert_num_queries(1):
        assert (
            client.post(LOOKUP, {"order_number": "1001", "email": "nobody@example.com"}).status_code
            == 404
        )
    _stores_with_1001(40, prefix="more")
    with django_assert_num_queries(1):
        assert (
            client.post(LOOKUP, {"order_number": "1001", "email": "nobody@example.com"}).status_code
            == 404
        )


def test_same_number_and_email_in_two_stores_finds_the_newest_order(client):
    old_store = make_store(name="Old", slug="old-shop")
    new_store = make_store(name="New", slug="new-shop")
    older = make_order_shipment(old_store, order_number="1001", email="jane@example.com")
    newer = make_order_shipment(new_store, order_number="#1001", email="JANE@example.com")
    newer.order.placed_at = timezone.now()
    newer.order.save(update_fields=["placed_at"])

    response = client.post(LOOKUP, {"order_number": "1001", "email": "jane@example.com"})
    assert response["Location"] == newer.get_tracking_url()
    # The store's own box (or link) reaches the other one.
    scoped = client.post(
        LOOKUP, {"order_number": "1001", "email": "jane@example.com", "store": "old-shop"}
    )
    assert scoped["Location"] == older.get_tracking_url()


def test_store_narrows_the_lookup_with_the_same_work_found_or_not(
    client, shop, django_assert_num_queries
):
    mine = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    other = make_store(name="Other", slug="other-shop")
    make_order_shipment(other, order_number="#1001", email="bob@example.com")

    with django_assert_num_queries(2):  # the store, then the order
        found = client.get(
            LOOKUP, {"order": "1001", "email": "jane@example.com", "store": shop.slug}
        )
    assert found["Location"] == mine.get_tracking_url()
    with django_assert_num_queries(2):
        missing = client.get(
            LOOKUP, {"order": "1001", "email": "bob@example.com", "store": shop.slug}, **JSON
        )
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "We could not find an order with this order number and e-mail address. "
        "Please check both and try again."
    }


def test_store_brands_the_lookup_page(client, shop):
    response = client.get(LOOKUP, {"store": shop.slug})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="brand-name">Acme Outdoor</span>' in html
    assert 'src="https://cdn.example.com/acme.png"' in html
    assert f'href="/track/store/{shop.slug}/theme.css"' in html
    assert f'name="store" value="{shop.slug}"' in html  # the form keeps narrowing on submit
    theme = client.get(f"/track/store/{shop.slug}/theme.css")
    assert theme.status_code == 200
    assert theme["Content-Type"].startswith("text/css")
    assert "--accent: #0a7d55;" in theme.content.decode()

    # The not-found answer of a narrowed lookup is branded as well.
    missing = client.post(
        LOOKUP, {"order_number": "404", "email": "x@example.com", "store": shop.slug}
    )
    assert missing.status_code == 404
    assert '<span class="brand-name">Acme Outdoor</span>' in missing.content.decode()


def test_an_unknown_store_is_the_plain_page_looking_everywhere(client, shop):
    mine = make_order_shipment(shop, order_number="#1001", email="jane@example.com")
    page = client.get(LOOKUP, {"store": "no-such-shop"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="brand-name">Order tracking</span>' in html
    assert "theme.css" not in html
    assert client.get("/track/store/no-such-shop/theme.css").status_code == 404

    found = client.post(
        LOOKUP, {"order_number": "1001", "email": "jane@example.com", "store": "no-such-shop"}
    )
    assert found["Location"] == mine.get_tracking_url()
