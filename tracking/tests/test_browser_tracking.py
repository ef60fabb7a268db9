"""The public tracking page in a real browser: lookup, Resync with a real worker and the carrier
sandbox, the timeline refreshed in place, and the cooldown shared with the merchant page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from shipments.messages import SHOPPER_UPDATED
from shipments.models import ResyncJob, Shipment
from shipments.services import shipment_resync
from shipments.tests.browser_fixtures import screenshot
from shipments.tests.fixtures import make_store, make_user
from shipments.tests.worker_fixtures import wait_for

from .conftest import make_order_shipment

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAITING = re.compile(r"Resync — available in \d:\d\d")


@pytest.fixture
def order_shipment(worker) -> Shipment:
    store = make_store(
        name="Northwind Trading",
        slug="northwind",
        display_name="Northwind",
        time_zone="America/New_York",
        accent_color="#7a2e8e",
    )
    return make_order_shipment(
        store,
        order_number="#5150",
        email="Pat.Shopper@example.com",
        carrier="dhl",
        shipped_at=timezone.now() - dt.timedelta(days=1),
    )


def test_shopper_looks_up_resyncs_and_shares_the_cooldown_with_the_merchant(
    live_server, page, browser, sandbox, order_shipment
):
    shipment = order_shipment
    # Look up by order number + e-mail (typed loosely).
    page.goto(f"{live_server.url}/track/")
    screenshot(page, "tracking-lookup")
    page.get_by_label("Order number").fill(" 5150")
    page.get_by_label("E-mail address").fill("pat.shopper@EXAMPLE.com")
    page.get_by_role("button", name="Find my order").click()
    page.wait_for_url(f"**{shipment.get_tracking_url()}")
    assert page.get_by_text("Northwind", exact=True).is_visible()
    assert page.get_by_text("Times are shown in America/New_York.").is_visible()

    # The carrier reports something new; the shopper presses Resync.
    sandbox.add_event(
        shipment.tracking_number,
        status="out_for_delivery",
        description="With the courier on your street",
    )
    page.evaluate("window.__sameDocument = true")
    button = page.get_by_role("button", name=re.compile("Resync"))
    assert button.is_enabled()
    button.click()

    status = page.locator("[data-resync-status]")
    status.get_by_text(str(SHOPPER_UPDATED)).wait_for(timeout=30_000)
    # The timeline shows the new event without a reload, and the status moved on.
    timeline = page.locator("[data-timeline]")
    timeline.locator(".event-description", has_text="With the courier on your street").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#status-title").inner_text() == "Out for delivery"
    # The countdown runs on a disabled button whose name still says Resync.
    assert button.is_disabled()
    assert WAITING.search(button.inner_text())
    assert button.get_attribute("aria-disabled") == "true"
    screenshot(page, "tracking-page-desktop", docs=True)
    job = ResyncJob.objects.get(shipment=shipment)
    assert job.source == "shopper"
    assert job.state == "succeeded"

    # A reload keeps the countdown (the server says how long).
    page.reload()
    button = page.get_by_role("button", name=re.compile("Resync"))
    assert button.is_disabled()
    assert WAITING.search(button.inner_text())

    # The merchant's details page for the same shipment shows its Resync disabled too.
    merchant = make_user("northwind-owner", store=shipment.store)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        merchant_page = context.new_page()
        merchant_page.goto(f"{live_server.url}/accounts/login/?next=/app/shipments/{shipment.pk}/")
        merchant_page.get_by_label("Username").fill(merchant.username)
        merchant_page.get_by_label("Password").fill("pw-123456")
        merchant_page.get_by_role("button", name="Sign in").click()
        merchant_page.wait_for_url(f"**/app/shipments/{shipment.pk}/")
        merchant_button = merchant_page.locator("[data-resync-root] button[type=submit]").first
        assert "Resync" in merchant_button.inner_text()
        wait_for(merchant_button.is_disabled, timeout=5)
        assert WAITING.search(merchant_button.inner_text())
    finally:
        context.close()


def test_tracking_page_on_a_phone(live_server, phone_page, sandbox, order_shipment):
    shipment = order_shipment
    sandbox.add_event(
        shipment.tracking_number, status="out_for_delivery", description="Out with the courier"
    )
    # Pull the carrier's history first so the page has a timeline to show.
    verdict = shipment_resync(shipment=shipment, source="merchant")
    wait_for(lambda: ResyncJob.objects.get(pk=verdict.job.pk).is_finished, timeout=30)

    phone_page.goto(f"{live_server.url}{shipment.get_tracking_url()}")
    phone_page.locator(".event-description", has_text="Out with the courier").wait_for()
    button = phone_page.get_by_role("button", name=re.compile("Resync"))
    assert button.is_disabled()  # the merchant's resync started the shared cooldown
    # Nothing is wider than the phone.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    # artifacts/screenshots/tracking-page-phone.png (docs/screenshots/ holds a copy)
    assert screenshot(phone_page, "tracking-page-phone", docs=True).stat().st_size > 10_000
