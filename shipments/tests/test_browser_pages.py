"""The merchant pages of issue #12 in a real browser: the run's "started" notice goes when the run
ends, and the Shipment tab and details fit every width from 360 to 1,920 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shipments.models import SyncRun

from .test_browser_merchant import keep_for_docs, shop, sign_in  # noqa: F401  (shop: a fixture)

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
