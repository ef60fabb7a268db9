"""CSV import in a real browser (Chromium via Playwright), with a real Celery worker and the
carrier sandbox: a bad file lists its problems, a good file is imported and the Shipment tab's
sync panel shows the import run pulling it to the end; also without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shipments.carriers.numbers import example_number
from shipments.models import RunState, Shipment, SyncRun
from shipments.tests.browser_fixtures import screenshot
from shipments.tests.fixtures import make_store, make_user
from shipments.tests.worker_fixtures import wait_for

from .csv_helpers import csv_file, stored

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NUMBERS = [example_number("dhl", 301), example_number("ups", 302), example_number("fedex", 303)]
GOOD = csv_file(
    f"#5001,ann@example.com,{NUMBERS[0]},DHL,2026-11-20",
    f"#5002,bob@example.com,{NUMBERS[1]},ups,2026-11-20 14:30",
    f"#5003,cy@example.com,{NUMBERS[2]},,",
)
BAD = csv_file(
    f"#5001,not-an-email,{NUMBERS[0]},DHL,2026-11-20",
    f"#5002,bob@example.com,{NUMBERS[1]},ups,someday",
)


def _file(name: str, content: bytes) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/shipments/")


@pytest.fixture
def shop(db):
    store = make_store(name="Acme Outdoor", slug="acme-outdoor", time_zone="Europe/Berlin")
    make_user("merchant", store=store)
    return store


def test_import_a_bad_then_a_good_file_and_watch_the_import_run(
    live_server, page, worker, sandbox, shop
):
    _sign_in(page, live_server)
    page.get_by_role("link", name="Import", exact=True).click()
    page.wait_for_url("**/app/shipments/import/")
    expect(page.get_by_role("heading", name="Import shipments", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Download the template CSV")).to_be_visible()

    # A bad file: every problem listed in a table, announced, nothing stored.
    page.get_by_label("CSV file", exact=True).set_input_files(_file("bad.csv", BAD))
    page.get_by_role("button", name="Import", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The file has 2 problems — nothing was imported")
    rows = alert.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("2")
    expect(rows.nth(0)).to_contain_text("email")
    expect(rows.nth(1)).to_contain_text("shipped_at")
    expect(page.get_by_label("CSV file", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "csv-import-errors")
    assert stored() == (0, 0, 0, 0)

    # A good file: a notice with the counts and a link to the Shipment tab.
    page.get_by_label("CSV file", exact=True).set_input_files(_file("good.csv", GOOD))
    page.get_by_role("button", name="Import", exact=True).click()
    notice = page.get_by_role("status").filter(has_text="Import finished")
    expect(notice).to_contain_text("3 shipments created")
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "csv-import-done")
    assert Shipment.objects.filter(store=shop).count() == 3

    # The Shipment tab's sync panel shows the import run and follows it to the end.
    page.get_by_role("link", name="See the import in the Shipment tab").click()
    page.wait_for_url("**/app/shipments/**")
    panel = page.locator("[data-sync-panel]")
    expect(panel).to_contain_text("Import")
    expect(panel).to_contain_text("started by merchant")
    expect(page.locator("[data-progress-text]")).to_contain_text("3 of 3 shipments (100 %)")
    expect(panel.locator('[data-field="state_label"]')).to_have_text(re.compile("Completed"))
    run = wait_for(lambda: SyncRun.objects.filter(store=shop, state=RunState.COMPLETED).first())
    assert (run.window, run.total, run.done) == ("import", 3, 3)
    for number in NUMBERS:
        expect(page.get_by_text(number)).to_be_visible()
    screenshot(page, "csv-import-shipment-tab")


def test_import_works_without_javascript(live_server, browser, shop, published):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, live_server)
        page.goto(f"{live_server.url}/app/shipments/import/")
        page.get_by_label("CSV file", exact=True).set_input_files(_file("good.csv", GOOD))
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Import finished")).to_contain_text(
            "3 shipments created"
        )
        page.get_by_role("link", name="See the import in the Shipment tab").click()
        expect(page.locator("[data-sync-panel]")).to_contain_text("Import")
        expect(page.locator("[data-progress-text]")).to_contain_text("0 of 3 shipments")
    finally:
        context.close()
