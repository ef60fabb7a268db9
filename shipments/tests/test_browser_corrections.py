"""Issue #12 in a real browser (Chromium via Playwright), with a real Celery worker, real Redis and
the carrier sandbox over HTTP: correcting a not-found shipment's carrier from its details page,
and the details page's honest results (news, nothing new, a failed pull that keeps the old data).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shipments.carriers.numbers import example_number
from shipments.messages import ERROR_MESSAGES, SUCCESS_MESSAGE
from shipments.models import ResyncJob, Shipment
from shipments.services import shipment_clear_cooldown

from .browser_fixtures import screenshot
from .fixtures import make_shipment, make_store, make_user
from .test_browser_merchant import sign_in
from .worker_fixtures import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NOT_FOUND = str(ERROR_MESSAGES["not_found"])
NOTHING_NEW = "Nothing new from the carrier since"


@pytest.fixture
def merchant_store(worker, sandbox):
    store = make_store(name="Acme Outdoor", slug="acme-outdoor", time_zone="Europe/Berlin")
    make_user("merchant", store=store)
    return store


def shipment_of(store, carrier: str = "ups", **fields) -> Shipment:
    return make_shipment(
        store, carrier=carrier, shipped_at=timezone.now() - dt.timedelta(hours=30), **fields
    )


def finished_job(shipment: Shipment, after: int = 0) -> ResyncJob:
    """The shipment's newest job once it finished (the first created after job id `after`)."""

    def done():
        job = ResyncJob.objects.filter(shipment=shipment).order_by("-created_at").first()
        return job if job and job.pk != after and job.is_finished else None

    return wait_for(done, timeout=30)


def open_js_free(browser):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_correcting_the_carrier_of_a_not_found_shipment_brings_its_timeline(
    live_server, browser, page, sandbox, merchant_store, javascript
):
    shipment = shipment_of(merchant_store, carrier="ups")
    sandbox.fault(shipment.tracking_number, "unknown")
    context = None
    if not javascript:
        context, page = open_js_free(browser)
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server.url}/app/shipments/{shipment.pk}/")
        page.get_by_role("button", name="Resync").click()
        status = page.locator("[data-resync-root] [data-resync-status]")
        if javascript:
            expect(status).to_contain_text(NOT_FOUND)
            expect(status).to_have_class(re.compile("error"))
        else:
            page.wait_for_url(f"**/app/shipments/{shipment.pk}/")
            job = finished_job(shipment)
            assert job.state == "failed"
            page.reload()
            expect(status).to_contain_text(NOT_FOUND)
        page.reload()  # the page as it is after the failure
        outcome = page.locator(".outcome")
        expect(outcome).to_have_class(re.compile("error"))
        expect(outcome).to_contain_text(NOT_FOUND)
        expect(page.locator("[data-timeline]")).to_contain_text("No tracking events yet.")

        # The correction form is open after a failed pull; carriers that fit the number come
        # first, in their own group.
        form_title = page.get_by_role("heading", name="Wrong carrier or tracking number?")
        expect(form_title).to_be_visible()
        select = page.get_by_label("Carrier", exact=True)
        expect(select.locator("optgroup").first).to_have_attribute(
            "label", "Fits this tracking number"
        )
        expect(select.locator("optgroup").first.locator("option").first).to_have_text("UPS")
        expect(select).to_have_value("ups")

        good_number = example_number("dhl", 4242)
        select.select_option(label="DHL")
        page.get_by_label("Tracking number", exact=True).fill(
            f" {good_number[:6]}-{good_number[6:]} "
        )
        failed = ResyncJob.objects.get(shipment=shipment)
        page.get_by_role("button", name="Change carrier and resync").click()
        page.wait_for_url(f"**/app/shipments/{shipment.pk}/")
        expect(page.locator(".messages")).to_contain_text("Carrier changed to DHL")

        job = finished_job(shipment, after=failed.pk)
        assert job.source == "correction"
        assert job.state == "succeeded", job.message
        page.reload()
        expect(page.locator(".page-head")).to_contain_text(good_number)
        timeline = page.locator("[data-timeline]")
        expect(timeline.locator("li").first).to_be_visible()
        assert timeline.locator("li").count() >= 1
        expect(page.locator(".outcome")).to_have_text("OK")
        expect(page.locator("[data-resync-status]")).to_contain_text(str(SUCCESS_MESSAGE))
        # The old carrier's failure is gone, and so is the open form.
        expect(page.get_by_text(NOT_FOUND)).to_have_count(0)
        expect(form_title).to_be_visible()  # the summary stays, the body is folded
        expect(page.get_by_role("button", name="Change carrier and resync")).to_be_hidden()
        shipment.refresh_from_db()
        assert (shipment.carrier, shipment.tracking_number) == ("dhl", good_number)
        assert shipment.last_sync_outcome == "ok"
        if javascript:
            screenshot(page, "carrier-correction", docs=True)
    finally:
        if context is not None:
            context.close()


def test_details_resync_says_news_then_nothing_new_then_news_again(
    live_server, page, sandbox, merchant_store
):
    shipment = shipment_of(merchant_store, carrier="dhl")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/app/shipments/{shipment.pk}/")
    status = page.locator("[data-resync-root] [data-resync-status]")
    resync = page.get_by_role("button", name="Resync")

    # An added event freezes the sandbox's planned history (no planned scan falls due between
    # two pulls), so "nothing new" is deterministic.
    sandbox.add_event(
        shipment.tracking_number, status="in_transit", description="Arrived at the Berlin hub"
    )

    # 1. The first pull brings the carrier's history: news.
    resync.click()
    expect(status).to_contain_text(str(SUCCESS_MESSAGE))
    expect(status).to_have_class(re.compile("success"))
    expect(resync).to_be_disabled()
    first = finished_job(shipment)
    assert first.changed is True

    # 2. Cooldown cleared (ops), nothing new at the carrier: it says so, with the latest event.
    shipment_clear_cooldown(shipment=shipment)
    page.reload()
    expect(resync).to_be_enabled()
    resync.click()
    expect(status).to_contain_text(NOTHING_NEW)
    expect(status).not_to_contain_text(str(SUCCESS_MESSAGE))
    second = finished_job(shipment, after=first.pk)
    assert second.changed is False
    assert second.state == "succeeded"
    expect(page.locator(".outcome")).to_have_text("OK")
    screenshot(page, "details-nothing-new", docs=True)

    # 3. The carrier scans the parcel again: news again, and the timeline shows it in place.
    sandbox.add_event(
        shipment.tracking_number,
        status="out_for_delivery",
        description="Loaded on the delivery van",
        location="Berlin, DE",
    )
    shipment_clear_cooldown(shipment=shipment)
    page.reload()
    expect(resync).to_be_enabled()
    resync.click()
    expect(status).to_contain_text(str(SUCCESS_MESSAGE))
    expect(status).not_to_contain_text(NOTHING_NEW)
    expect(page.locator("[data-timeline] li").first).to_contain_text("Loaded on the delivery van")
    third = finished_job(shipment, after=second.pk)
    assert third.changed is True


def test_failed_pull_keeps_the_old_data_and_says_why(live_server, page, sandbox, merchant_store):
    shipment = shipment_of(merchant_store, carrier="fedex")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/app/shipments/{shipment.pk}/")
    page.get_by_role("button", name="Resync").click()
    status = page.locator("[data-resync-root] [data-resync-status]")
    expect(status).to_contain_text(str(SUCCESS_MESSAGE))
    first = finished_job(shipment)
    page.reload()
    events = page.locator("[data-timeline] li")
    before = [text.strip() for text in events.all_inner_texts()]
    assert before, "the first pull brought no events"
    good_time = page.locator("[data-last-synced] time").get_attribute("datetime")
    assert good_time

    # Now the carrier no longer answers for the number.
    sandbox.fault(shipment.tracking_number, "unknown")
    shipment_clear_cooldown(shipment=shipment)
    page.reload()
    page.get_by_role("button", name="Resync").click()
    expect(status).to_contain_text(NOT_FOUND)
    expect(status).to_have_class(re.compile("error"))
    failed = finished_job(shipment, after=first.pk)
    assert failed.state == "failed"

    page.reload()
    expect(page.get_by_text("Last successful update", exact=True)).to_be_visible()
    last_success = page.locator("[data-last-synced]")
    expect(last_success).not_to_have_text("Never")
    expect(last_success.locator("time")).to_have_attribute("datetime", good_time)
    outcome = page.locator("dt", has_text="Last sync outcome").locator(
        "xpath=following-sibling::dd"
    )
    expect(outcome.locator(".outcome")).to_have_text(NOT_FOUND)
    expect(outcome).to_contain_text("what is shown is from the last successful update")
    # The last good data stays: the same events, and the status they gave.
    assert [text.strip() for text in events.all_inner_texts()] == before
    expect(page.locator("[data-resync-refresh] .badge").first).not_to_have_text("Pending")
    # The failure leaves the correction form open.
    expect(page.get_by_role("button", name="Change carrier and resync")).to_be_visible()
    screenshot(page, "details-failed-pull", docs=True)
