"""Issue #12 on the public tracking page, in a real browser with a real worker and the carrier
sandbox: a failed resync reads the shopper's own sentence, a resync's result is shown only to the
browser that started it, and a parcel tracked through 17TRACK or AfterShip names its real
carrier (never the aggregator)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shipments.carriers.numbers import _with_check_digit
from shipments.messages import ERROR_MESSAGES, SHOPPER_FAILED, SHOPPER_UPDATED, SUCCESS_MESSAGE
from shipments.models import ResyncJob, Shipment
from shipments.services import shipment_clear_cooldown, shipment_resync
from shipments.tests.browser_fixtures import screenshot
from shipments.tests.fixtures import make_store
from shipments.tests.worker_fixtures import wait_for

from .conftest import make_order_shipment

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NOT_FOUND = str(ERROR_MESSAGES["not_found"])
ROYAL_MAIL = "https://www.royalmail.com/track-your-item#/tracking-results/"
AGGREGATOR_WORDS = re.compile(r"17\s*track|after\s*ship", re.IGNORECASE)


@pytest.fixture
def northwind(worker, sandbox):
    return make_store(
        name="Northwind Trading",
        slug="northwind",
        display_name="Northwind",
        time_zone="America/New_York",
    )


def new_shipment(store, carrier: str = "dhl", **fields: Any) -> Shipment:
    return make_order_shipment(
        store,
        order_number="#7001",
        email="pat@example.com",
        carrier=carrier,
        shipped_at=timezone.now() - dt.timedelta(days=1),
        **fields,
    )


def pull(shipment: Shipment) -> ResyncJob:
    """A merchant resync through the real worker, finished (its cooldown then cleared)."""
    verdict = shipment_resync(shipment=shipment, source="merchant")
    assert verdict.accepted
    job = wait_for(lambda: (j := ResyncJob.objects.get(pk=verdict.job.pk)).is_finished and j, 30)
    shipment_clear_cooldown(shipment=shipment)
    return job


def shopper(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_failed_resync_reads_the_shoppers_sentence_and_keeps_the_last_good_data(
    live_server, page, sandbox, northwind
):
    shipment = new_shipment(northwind)
    assert pull(shipment).state == "succeeded"
    sandbox.fault(shipment.tracking_number, "unknown")

    page.goto(f"{live_server.url}{shipment.get_tracking_url()}")
    timeline = page.locator("[data-timeline] .timeline")
    before = [text.strip() for text in timeline.locator("li").all_inner_texts()]
    assert before
    status_title = page.locator("#status-title").inner_text()
    last_updated = page.locator("dt", has_text="Last updated").locator(
        "xpath=following-sibling::dd"
    )
    good_time = last_updated.locator("time").get_attribute("datetime")
    assert good_time
    status = page.locator("[data-resync-status]")
    expect(status).to_have_text("")  # the merchant's resync is not this browser's

    page.get_by_role("button", name=re.compile("Resync")).click()
    expect(status).to_contain_text(str(SHOPPER_FAILED))
    expect(status).to_have_class(re.compile("error"))
    job = ResyncJob.objects.filter(shipment=shipment, source="shopper").get()
    assert job.state == "failed"
    screenshot(page, "tracking-failed-resync", docs=True)

    for _ in range(2):  # as the answer arrived, and after a reload (the cookie remembers)
        body = page.locator("body")
        expect(body).not_to_contain_text(NOT_FOUND)
        expect(body).not_to_contain_text("does not know")
        assert job.message not in page.locator("body").inner_text()
        # The last good data stays.
        assert [text.strip() for text in timeline.locator("li").all_inner_texts()] == before
        expect(page.locator("#status-title")).to_have_text(status_title)
        expect(last_updated.locator("time")).to_have_attribute("datetime", good_time)
        page.reload()
        expect(status).to_contain_text(str(SHOPPER_FAILED))


def test_only_the_shopper_who_pressed_resync_sees_its_result(
    live_server, browser, sandbox, northwind
):
    shipment = new_shipment(northwind)
    url = f"{live_server.url}{shipment.get_tracking_url()}"
    first_context, first = shopper(browser)
    second_context, second = shopper(browser)
    try:
        first.goto(url)
        second.goto(url)
        sandbox.add_event(
            shipment.tracking_number, status="out_for_delivery", description="On the van"
        )
        first.get_by_role("button", name=re.compile("Resync")).click()
        first_status = first.locator("[data-resync-status]")
        expect(first_status).to_contain_text(str(SHOPPER_UPDATED))
        wait_for(lambda: ResyncJob.objects.get(shipment=shipment).is_finished)

        # The other shopper sees the new data and the shared cooldown, but no result message.
        second.reload()
        second_status = second.locator("[data-resync-status]")
        expect(second.locator("[data-timeline]")).to_contain_text("On the van")
        expect(second.get_by_role("button", name=re.compile("Resync"))).to_be_disabled()
        expect(second_status).to_have_text("")
        expect(second.locator("body")).not_to_contain_text(str(SHOPPER_UPDATED))
        expect(second.locator("body")).not_to_contain_text(str(SUCCESS_MESSAGE))
        expect(second.locator("body")).not_to_contain_text("Nothing new from the carrier")

        # The one who pressed it still sees it after a reload.
        first.reload()
        expect(first_status).to_contain_text(str(SHOPPER_UPDATED))
    finally:
        first_context.close()
        second_context.close()


@pytest.mark.parametrize("aggregator", ["17track", "aftership"])
def test_an_aggregator_tracked_parcel_names_its_real_carrier(
    live_server, page, sandbox, northwind, aggregator
):
    # A UPU S10 number of the UK: the sandbox's 17TRACK and AfterShip both answer that Royal Mail
    # carries it (17TRACK carrier key 11031, AfterShip slug "royal-mail").
    number = _with_check_digit("RR40271828", "GB")
    shipment = new_shipment(northwind, carrier=aggregator, tracking_number=number)
    job = pull(shipment)
    assert job.state == "succeeded", job.message
    shipment.refresh_from_db()
    assert shipment.actual_carrier_name == "Royal Mail"

    page.goto(f"{live_server.url}{shipment.get_tracking_url()}")
    carrier = page.locator("dt", has_text=re.compile("^Carrier$")).locator(
        "xpath=following-sibling::dd"
    )
    expect(carrier).to_have_text("Royal Mail")
    link = page.locator(".tracking-number a")
    expect(link).to_have_attribute("href", f"{ROYAL_MAIL}{number}")
    expect(link).to_contain_text(number)
    expect(page.locator("[data-timeline] .timeline li").first).to_be_visible()

    body_text = page.locator("body").inner_text()
    assert not AGGREGATOR_WORDS.search(body_text), AGGREGATOR_WORDS.search(body_text)
    for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
        assert not AGGREGATOR_WORDS.search(href), href
    screenshot(page, f"tracking-real-carrier-{aggregator}", docs=aggregator == "aftership")
