"""The tracking page's estimated delivery: the carrier's date, else the store's rule; the page
and its JSON say which (SPEC §10)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from shipments import services

from .conftest import make_order_shipment

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BERLIN = ZoneInfo("Europe/Berlin")
# A Monday morning in Berlin: transit "2-3" → Wednesday 2 to Thursday 3 December 2026.
MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)


def _rule(store, transit: str = "2-3", **fields):
    values = {
        "processing_days": 0,
        "transit_days": transit,
        "transit_by_carrier": {},
        "business_days": "12345",
        "cutoff": None,
        **fields,
    }
    services.store_delivery_rule_set(store=store, **values)


def _parcel(store, **fields):
    fields.setdefault("carrier", "dhl")
    fields.setdefault("status", "in_transit")
    fields.setdefault("shipped_at", MONDAY)
    return make_order_shipment(store, **fields)


def _page(shipment, **headers):
    return _get(reverse("tracking:page", args=[shipment.public_token]), headers)


def _get(url, headers):
    return Client().get(url, **headers)


def test_store_rule_range_on_the_page_and_in_json(shop):
    _rule(shop, "2-3")
    shipment = _parcel(shop)
    html = _page(shipment).content.decode()
    assert 'datetime="2026-12-02"' in html
    assert 'datetime="2026-12-03"' in html
    assert "estimated by the store" in html
    assert "from the carrier" not in html
    data = _page(shipment, **JSON).json()
    assert data["estimated_delivery"] == "2026-12-02"
    assert data["estimated_delivery_latest"] == "2026-12-03"
    assert data["estimated_delivery_source"] == "store"


def test_one_date_has_no_latest(shop):
    _rule(shop, "2")
    data = _page(_parcel(shop), **JSON).json()
    assert (data["estimated_delivery"], data["estimated_delivery_latest"]) == ("2026-12-02", None)


def test_the_carriers_date_wins_and_says_so(shop):
    _rule(shop, "2-3")
    carrier_date = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    shipment = _parcel(shop, estimated_delivery=carrier_date)
    html = _page(shipment).content.decode()
    assert "from the carrier" in html
    assert "estimated by the store" not in html
    data = _page(shipment, **JSON).json()
    # As before: the carrier's date and time, in the store's zone.
    assert data["estimated_delivery"] == "2026-12-04T19:00:00+01:00"
    assert data["estimated_delivery_source"] == "carrier"
    assert data["estimated_delivery_latest"] is None


def test_per_carrier_transit_days(shop):
    _rule(shop, "5", transit_by_carrier={"ups": "1"})
    assert _page(_parcel(shop, carrier="ups"), **JSON).json()["estimated_delivery"] == "2026-12-01"
    assert (
        _page(_parcel(shop, carrier="dhl", order_number="#1002"), **JSON).json()[
            "estimated_delivery"
        ]
        == "2026-12-07"
    )


def test_cut_off_in_the_stores_zone(shop):
    _rule(shop, "1", cutoff="14:00")
    late = _parcel(shop, shipped_at=dt.datetime(2026, 11, 30, 14, 30, tzinfo=BERLIN))
    assert _page(late, **JSON).json()["estimated_delivery"] == "2026-12-02"


@pytest.mark.parametrize("status", ["delivered", "expired"])
def test_no_estimate_once_delivered(shop, status):
    _rule(shop, "2-3")
    shipment = _parcel(shop, status=status, estimated_delivery=MONDAY + dt.timedelta(days=2))
    data = _page(shipment, **JSON).json()
    assert data["estimated_delivery"] is None
    assert data["estimated_delivery_source"] is None
    html = _page(shipment).content.decode()
    assert "estimated by the store" not in html
    assert "from the carrier" not in html


def test_no_rule_and_no_carrier_date_is_not_available(shop):
    shipment = _parcel(shop)
    assert "Not available yet" in _page(shipment).content.decode()
    data = _page(shipment, **JSON).json()
    assert data["estimated_delivery"] is None
    assert data["estimated_delivery_source"] is None


def test_the_lookup_by_number_shows_the_store_estimate(client, shop):
    _rule(shop, "2-3")
    shipment = _parcel(shop)
    data = client.get("/track/", {"tracking_number": shipment.tracking_number}, **JSON).json()
    assert (data["estimated_delivery"], data["estimated_delivery_source"]) == (
        "2026-12-02",
        "store",
    )


def test_the_page_still_costs_three_queries_with_a_rule(shop, django_assert_num_queries):
    _rule(shop, "2-3", transit_by_carrier={"dhl": "1-2"}, cutoff="15:00")
    shipment = _parcel(shop)
    # Its version, then (not cached yet) the shipments of the order and the timeline.
    with django_assert_num_queries(3):
        response = _page(shipment)
    assert "estimated by the store" in response.content.decode()


def test_an_order_not_shipped_yet_counts_processing_days_from_its_placed_date(
    client, shop, django_assert_num_queries
):
    _rule(shop, "2-3", processing_days=1, transit_by_carrier={"dhl": "1"})
    shipment = _parcel(shop, order_number="#2001", email="jane@example.com")
    order = shipment.order
    shipment.delete()
    # Friday 10:00 in Berlin: ships Monday (1 processing day), arrives Wednesday to Thursday
    # (the default transit days: no carrier is known yet).
    order.placed_at = dt.datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)
    order.save(update_fields=["placed_at"])
    form = {"order_number": "2001", "email": "jane@example.com"}
    with django_assert_num_queries(1):
        data = client.post("/track/", form, **JSON).json()
    assert data == {
        "tracking_url": None,
        "shipped": False,
        "estimated_delivery": "2026-12-02",
        "estimated_delivery_latest": "2026-12-03",
        "estimated_delivery_source": "store",
    }
    html = client.post("/track/", form).content.decode()
    assert "has not shipped this order yet" in html
    assert 'datetime="2026-12-02"' in html
    assert "estimated by the store" in html


def test_an_order_not_shipped_yet_without_a_rule_has_no_estimate(client, shop):
    shipment = _parcel(shop, order_number="#2002", email="jane@example.com")
    shipment.delete()
    form = {"order_number": "2002", "email": "jane@example.com"}
    data = client.post("/track/", form, **JSON).json()
    assert data["estimated_delivery"] is None
    assert "Estimated delivery" not in client.post("/track/", form).content.decode()
