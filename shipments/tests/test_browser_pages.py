"""The merchant pages of issue #12 in a real browser: the run's "started" notice goes when the run
ends, and the Shipment tab and details fit every width from 360 to 1,920 px."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shipments.models import Membership, RunState, Store, SyncRun, TrackingEvent

from .browser_fixtures import screenshot
from .fixtures import make_shipment, make_store, make_user
from .test_browser_merchant import shop, sign_in  # noqa: F401  (shop: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_started_notice_goes_when_the_run_ends(live_server, page, shop):  # noqa: F811
    store, shipments, _ = shop
    sign_in(page, live_server)
    page.get_by_role("button", name="Resync").click()
    page.get_by_role("button", name="Last 7 days").click()
    status = page.locator("[data-resync-menu] [data-resync-status]")
    panel = page.locator("[data-sync-panel]")
    expect(panel.locator('[data-field="state_label"]')).to_have_text(re.compile("Completed"))
    assert not SyncRun.objects.get(store=store).is_active
    # The green "Resync of Last 7 days started: 6 shipments." is gone; the panel says how it went.
    expect(status).to_have_text("")
    expect(status).to_be_hidden()
    expect(page.get_by_text("started: 6 shipments")).to_have_count(0)
    expect(page.locator("[data-table-updating]")).to_have_count(0)
    expect(page.locator("[data-shipment-table]").get_by_text("OK", exact=True)).to_have_count(6)
    # The history has the run, refreshed in place.
    history = page.locator("[data-run-history]")
    history.get_by_text("Run history").click()
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history).to_contain_text("Resync of Last 7 days")


@pytest.fixture
def wide_content(transactional_db):
    """A merchant of two stores with long names (the header's store switcher), a shipment with a
    long event, and a run with failures in the history: what stretches the layout most."""
    store = make_store(
        name="Acme Outdoor & Mountaineering Supplies International", time_zone="Europe/Berlin"
    )
    other = make_store(name="Acme Outdoor Outlet Second Store", time_zone="Europe/Berlin")
    user = make_user("merchant", store=store)
    Membership.objects.create(user=user, store=other, role=Membership.Role.OWNER)
    now = timezone.now()
    shipments = [
        make_shipment(store, carrier=c, shipped_at=now - dt.timedelta(hours=h))
        for c, h in [("dhl", 1), ("ups", 30), ("fedex", 50)]
    ]
    TrackingEvent.objects.create(
        shipment=shipments[0],
        occurred_at=now - dt.timedelta(minutes=30),
        status="in_transit",
        description="Arrived at the sorting facility; the parcel will be forwarded to the "
        "delivery depot of the recipient's region in the next run",
        location="Frankfurt-Flughafen Internationales Frachtzentrum, DE",
        fingerprint=uuid.uuid4().hex,
    )
    SyncRun.objects.create(
        store=store, window="7d", source="merchant", requested_by=user,
        state=RunState.COMPLETED_WITH_ERRORS, total=3, done=3, changed=1, unchanged=1, failed=1,
        started_at=now - dt.timedelta(minutes=5), finished_at=now - dt.timedelta(minutes=4),
    )  # fmt: skip
    return store, shipments


FITS = """() => {
  const doc = document.documentElement;
  const bad = [];
  if (doc.scrollWidth > window.innerWidth) bad.push(`page ${doc.scrollWidth} > ${window.innerWidth}`);
  for (const el of document.querySelectorAll(".site-header, .page-head, .card")) {
    if (el.scrollWidth > el.clientWidth + 1) bad.push(`${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 0.5) bad.push(`${el.className} ends at ${box.right}`);
  }
  const head = document.querySelector(".page-head");
  const card = head && (head.closest(".card") || document.querySelector("main"));
  if (head && card) {
    const h = head.getBoundingClientRect(), c = card.getBoundingClientRect();
    if (h.left < c.left - 0.5 || h.right > c.right + 0.5) bad.push(`page head ${h.left}..${h.right} outside ${c.left}..${c.right}`);
  }
  return bad;
}"""


@pytest.mark.parametrize("width", [360, 1280, 1920])
def test_no_horizontal_overflow_from_360_to_1920(live_server, browser, wide_content, width):
    store, shipments = wide_content
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        for url in ["/app/shipments/", f"/app/shipments/{shipments[0].pk}/"]:
            page.goto(f"{live_server.url}{url}")
            expect(page.locator("h1")).to_be_visible()
            assert page.evaluate(FITS) == [], (url, width)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            if url == "/app/shipments/":
                page.locator("[data-run-history] summary").click()
                assert page.evaluate(FITS) == [], (url, width, "history open")
                screenshot(page, f"shipment-tab-{width}", docs=True)
    finally:
        context.close()


def test_404_of_a_shipment_in_another_of_my_stores_switches_to_it(live_server, page, wide_content):
    store, _ = wide_content
    other = Store.objects.exclude(pk=store.pk).get()
    theirs = make_shipment(other, carrier="ups")
    sign_in(page, live_server)
    response = page.goto(f"{live_server.url}/app/shipments/{theirs.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"This shipment belongs to {other.brand_name} — switch to it?"
    )
    expect(page.get_by_role("link", name="Back to Shipments")).to_be_visible()
    page.get_by_role("button", name=f"Switch to {other.brand_name}").click()
    page.wait_for_url(f"**/app/shipments/{theirs.pk}/")
    expect(page.get_by_text(theirs.tracking_number).first).to_be_visible()
