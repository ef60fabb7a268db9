"""The merchant app in a real browser (Chromium via Playwright), with a real Celery worker, real
Redis and the carrier sandbox over HTTP: the Shipment tab's bulk Resync and the details page's
single Resync, with and without JavaScript, at desktop and phone width."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shipments.messages import SUCCESS_MESSAGE
from shipments.models import ResyncJob, RunState, Shipment, SyncRun
from shipments.services import store_window_queryset

from .browser_fixtures import screenshot
from .fixtures import make_shipment, make_store, make_user
from .worker_fixtures import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAITING = re.compile(r"Resync — available in \d+:\d\d")


def sign_in(page, live_server, username: str = "merchant") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/shipments/")


@pytest.fixture
def shop(worker, sandbox):
    """A store in Berlin with a week of shipments across the carriers the sandbox serves."""
    store = make_store(name="Acme Outdoor", slug="acme-outdoor", time_zone="Europe/Berlin")
    make_user("merchant", store=store)
    now = timezone.now()
    shipments = [
        make_shipment(store, carrier=carrier, shipped_at=now - dt.timedelta(hours=hours))
        for carrier, hours in [
            ("dhl", 1),
            ("ups", 5),
            ("fedex", 26),
            ("usps", 50),
            ("dhl", 24 * 3),
            ("ups", 24 * 6),
        ]
    ]
    old = make_shipment(store, carrier="fedex", shipped_at=now - dt.timedelta(days=20))
    return store, shipments, old


def test_shipment_tab_bulk_resync_shows_progress_counts_and_the_countdown(live_server, page, shop):
    store, shipments, old = shop
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="Shipments", exact=True)).to_be_visible()
    for shipment in shipments:
        expect(page.get_by_text(shipment.tracking_number)).to_be_visible()

    resync = page.get_by_role("button", name="Resync")
    expect(resync).to_be_enabled()
    expect(resync).to_have_attribute("aria-expanded", "false")

    # The menu is keyboard-usable: Enter opens it and focuses the first choice, Escape closes it
    # and gives focus back to the button.
    resync.focus()
    page.keyboard.press("Enter")
    today = page.get_by_role("button", name="Today")
    expect(today).to_be_focused()
    expect(resync).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("button", name="Yesterday")).to_be_focused()
    page.keyboard.press("Escape")
    expect(today).to_be_hidden()
    expect(resync).to_be_focused()

    # Each choice says how many shipments it would resync.
    resync.click()
    screenshot(page, "shipment-tab-menu")
    now = timezone.now()
    for window, label in [
        ("today", "Today"),
        ("yesterday", "Yesterday"),
        ("7d", "Last 7 days"),
        ("30d", "Last 30 days"),
        ("60d", "Last 60 days"),
    ]:
        count = store_window_queryset(store=store, window=window, now=now).count()
        expect(page.get_by_role("button", name=label)).to_contain_text(str(count))

    page.get_by_role("button", name="Last 7 days").click()
    panel = page.locator("[data-sync-panel]")
    expect(panel).to_contain_text("Last 7 days")
    expect(panel).to_contain_text("started by merchant")
    screenshot(page, "shipment-tab-during-run", docs=True)

    progress = page.get_by_role("progressbar")
    expect(page.locator("[data-progress-text]")).to_contain_text("6 of 6 shipments (100 %)")
    expect(progress).to_have_attribute("value", "6")
    expect(panel.locator('[data-field="state_label"]')).to_have_text(re.compile("Completed"))
    run = SyncRun.objects.get(store=store)
    assert run.state == RunState.COMPLETED
    assert run.done == 6
    assert run.changed + run.unchanged + run.failed == 6
    expect(panel.locator('[data-field="changed"]')).to_have_text(str(run.changed))
    expect(panel.locator('[data-field="unchanged"]')).to_have_text(str(run.unchanged))
    expect(panel.locator('[data-field="failed"]')).to_have_text("0")
    expect(panel.get_by_text("Finished")).to_be_visible()

    # The table refreshed by itself: the synced rows now say how their sync went.
    table = page.locator("[data-shipment-table]")
    expect(table.get_by_text("OK", exact=True)).to_have_count(6)
    assert Shipment.objects.get(pk=old.pk).last_synced_at is None

    # The button is disabled for the store's hour-long cooldown, with a live countdown.
    expect(resync).to_be_disabled()
    expect(resync).to_have_text(WAITING)
    first = resync.inner_text()
    page.wait_for_timeout(1200)
    assert resync.inner_text() != first  # it counts down
    screenshot(page, "shipment-tab-after-run", docs=True)

    # A reload keeps the countdown (it comes from the server).
    page.reload()
    expect(page.get_by_role("button", name="Resync")).to_be_disabled()
    expect(page.get_by_role("button", name="Resync")).to_have_text(WAITING)
    expect(page.locator("[data-progress-text]")).to_contain_text("(100 %)")


def test_details_resync_updates_the_timeline_in_place_and_starts_the_cooldown(
    live_server, page, sandbox, shop
):
    store, shipments, _ = shop
    shipment = shipments[0]
    sign_in(page, live_server)
    page.get_by_role("link", name=shipment.order.order_number, exact=True).click()
    page.wait_for_url(f"**/app/shipments/{shipment.pk}/")
    expect(page.get_by_role("heading", name=f"Order {shipment.order.order_number}")).to_be_visible()
    tracking_link = page.get_by_label("Tracking page link")
    expect(tracking_link).to_have_value(f"{live_server.url}/track/{shipment.public_token}/")
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()

    sandbox.add_event(
        shipment.tracking_number,
        status="out_for_delivery",
        description="With the courier, arriving today",
        location="Berlin, DE",
    )
    page.evaluate("window.__sameDocument = true")
    resync = page.get_by_role("button", name="Resync")
    expect(resync).to_be_enabled()
    resync.click()

    status = page.locator("[data-resync-root] [data-resync-status]")
    expect(status).to_contain_text(str(SUCCESS_MESSAGE))
    expect(status).to_contain_text("You can resync this shipment again at")
    timeline = page.locator("[data-timeline]")
    expect(timeline).to_contain_text("With the courier, arriving today")
    expect(timeline.locator("li").first).to_contain_text("With the courier, arriving today")
    expect(page.locator("[data-resync-refresh] .badge").first).to_have_text("Out for delivery")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

    # No second resync for 5 minutes: disabled, with the time left.
    expect(resync).to_be_disabled()
    expect(resync).to_have_text(re.compile(r"Resync — available in [45]:\d\d"))
    screenshot(page, "details-after-resync")
    screenshot(page, "details-after-resync", docs=True)
    assert ResyncJob.objects.filter(shipment=shipment).count() == 1

    # A reload keeps the countdown and the result.
    page.reload()
    resync = page.get_by_role("button", name="Resync")
    expect(resync).to_be_disabled()
    expect(resync).to_have_text(re.compile(r"Resync — available in [45]:\d\d"))
    expect(page.locator("[data-timeline]")).to_contain_text("With the courier, arriving today")
    expect(page.locator("[data-resync-status]")).to_contain_text(str(SUCCESS_MESSAGE))


def test_details_resync_failure_says_why(live_server, page, sandbox, shop):
    _, shipments, _ = shop
    shipment = shipments[1]
    sandbox.fault(shipment.tracking_number, "unknown")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/app/shipments/{shipment.pk}/")
    page.get_by_role("button", name="Resync").click()
    status = page.locator("[data-resync-root] [data-resync-status]")
    expect(status).to_contain_text("The carrier does not know this tracking number")
    expect(status).to_have_class(re.compile("error"))
    expect(page.get_by_role("button", name="Resync")).to_be_disabled()


def test_without_javascript_the_resyncs_are_plain_forms(live_server, browser, shop):
    store, shipments, _ = shop
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        # The menu opens by a round trip; the choices are submit buttons.
        page.get_by_role("button", name="Resync").click()
        page.get_by_role("button", name="Yesterday").click()
        # The run shows in the panel; its "started" notice only while it still goes.
        expect(page.locator("[data-sync-panel]")).to_contain_text("Yesterday")
        run = SyncRun.objects.get(store=store)
        if run.is_active:
            expect(page.locator(".messages")).to_contain_text("Resync of Yesterday started")
        expect(page.get_by_role("button", name="Resync")).to_be_disabled()
        expect(page.get_by_role("button", name="Resync")).to_have_text(WAITING)

        shipment = shipments[2]
        page.goto(f"{live_server.url}/app/shipments/{shipment.pk}/")
        page.get_by_role("button", name="Resync").click()
        page.wait_for_url(f"**/app/shipments/{shipment.pk}/")
        expect(page.locator(".messages")).to_contain_text("Resync started.")
        expect(page.get_by_role("button", name="Resync")).to_be_disabled()
        job = wait_for(lambda: (j := ResyncJob.objects.get(shipment=shipment)).is_finished and j)
        page.reload()
        # The job's own sentence: news, or "Nothing new from the carrier since …".
        assert job.state == "succeeded"
        expected = str(SUCCESS_MESSAGE) if job.changed else "Nothing new from the carrier since"
        expect(page.locator("[data-resync-status]")).to_contain_text(expected)
    finally:
        context.close()


def test_phone_width(live_server, phone_page, shop):
    store, shipments, _ = shop
    sign_in(phone_page, live_server)
    expect(phone_page.get_by_text(shipments[0].tracking_number)).to_be_visible()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    phone_page.get_by_role("button", name="Resync").click()
    expect(phone_page.get_by_role("button", name="Last 60 days")).to_be_in_viewport()
    screenshot(phone_page, "shipment-tab-phone")
