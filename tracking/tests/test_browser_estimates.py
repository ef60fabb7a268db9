"""Issue #16 in a real browser: the estimated delivery from the store's rule on the tracking
page, and a lookup by tracking number alone that shows the parcel but not its order."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shipments import services
from shipments.tests.browser_fixtures import screenshot
from shipments.tests.fixtures import make_store

from .conftest import add_event, make_order_shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "JD014600006281239999"


@pytest.fixture
def parcel():
    store = make_store(
        name="Northwind Trading",
        slug="northwind",
        display_name="Northwind",
        time_zone="America/Los_Angeles",
        accent_color="#7a2e8e",
    )
    services.store_delivery_rule_set(
        store=store,
        processing_days=1,
        transit_days="2-4",
        transit_by_carrier={},
        business_days="12345",
        cutoff="14:00",
    )
    shipment = make_order_shipment(
        store,
        order_number="#5150",
        email="Pat.Shopper@example.com",
        carrier="dhl",
        tracking_number=NUMBER,
        status="in_transit",
        shipped_at=timezone.now() - dt.timedelta(hours=3),
    )
    add_event(shipment, hours_ago=2, status="in_transit", description="Departed the hub")
    return shipment


def test_the_tracking_page_shows_the_stores_estimate(live_server, page, parcel):
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    fact = page.locator(".fact", has_text="Estimated delivery")
    expect(fact).to_contain_text("estimated by the store")
    # A range: two dates.
    expect(fact.locator("time")).to_have_count(2)
    first, last = (fact.locator("time").nth(n).get_attribute("datetime") for n in (0, 1))
    assert dt.date.fromisoformat(first) < dt.date.fromisoformat(last)


def test_a_shopper_looks_up_a_parcel_by_its_tracking_number(live_server, page, parcel):
    page.goto(f"{live_server.url}/track/")
    page.get_by_role("textbox", name="Tracking number").fill(" jd0146 0000 6281239999 ")
    page.get_by_role("button", name="Track parcel").click()
    page.wait_for_url("**/track/?tracking_number=*")
    expect(page.locator("#status-title")).to_have_text("In transit")
    expect(page.get_by_text("Departed the hub")).to_be_visible()
    expect(page.locator(".tracking-number")).to_contain_text(NUMBER)
    expect(page.locator(".fact", has_text="Estimated delivery")).to_contain_text(
        "estimated by the store"
    )
    body = page.locator("body").inner_text()
    for secret in ("5150", "Pat", "@example.com"):
        assert secret not in body, secret
    assert not re.search(r"\bOrder\b", body)  # no order line ("Ordered" is a step)
    assert parcel.public_token not in page.content()
    screenshot(page, "tracking-lookup-by-number", docs=True)

    # An unknown number: the lookup page's "not found", with the number typed kept.
    page.get_by_role("link", name="Track another parcel").click()
    page.get_by_role("textbox", name="Tracking number").fill("NOPE404")
    page.get_by_role("button", name="Track parcel").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find a parcel")
    expect(page.get_by_role("textbox", name="Tracking number")).to_have_value("NOPE404")
