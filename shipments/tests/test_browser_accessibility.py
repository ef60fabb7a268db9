"""The merchant app checked with axe-core in a real browser: sign-in, the Shipment tab (with its
Resync menu open), a shipment's details and the settings pages have no violation of impact
"serious" or "critical" (milder ones are printed; `pytest -s` shows them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shipments.models import ShipmentStatus

from .browser_fixtures import assert_accessible
from .fixtures import make_shipment, make_store, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SETTINGS_PAGES = [
    "/app/settings/carriers/",
    "/app/settings/delivery/",
    "/app/settings/notifications/",
    "/app/settings/webhooks/",
    "/app/settings/api-keys/",
    "/app/shipments/import/",
]


def test_the_merchant_pages_have_no_serious_violations(live_server, axe_page):
    store = make_store(name="Acme Outdoor", slug="acme-outdoor", time_zone="Europe/Berlin")
    make_user("merchant", store=store)
    # One shipment in every status, so every badge colour is on the page.
    shipments = [
        make_shipment(
            store,
            carrier="dhl",
            status=status,
            shipped_at=timezone.now() - dt.timedelta(hours=3 + n),
        )
        for n, status in enumerate(ShipmentStatus.values)
    ]
    page = axe_page
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "sign-in")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/shipments/")
    assert_accessible(page, "Shipment tab")
    page.get_by_role("button", name="Resync").click()
    page.get_by_role("button", name="Today").wait_for()
    assert_accessible(page, "Shipment tab, Resync menu open")

    exception = next(s for s in shipments if s.status == ShipmentStatus.EXCEPTION)
    page.goto(f"{live_server.url}/app/shipments/{exception.pk}/")
    assert_accessible(page, "shipment details")
    for path in SETTINGS_PAGES:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, path)
