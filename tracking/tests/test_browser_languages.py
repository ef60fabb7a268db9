"""The shopper's language in a real browser: German from the browser's own language, Spanish
chosen with the switcher on a phone and remembered; the Resync control speaks it too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from shipments.models import Shipment
from shipments.tests.browser_fixtures import screenshot
from shipments.tests.fixtures import make_store

from .conftest import add_event, make_order_shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def german_page(browser: Any) -> Iterator[Any]:
    """A desktop browser whose own language is German (it sends `Accept-Language: de-DE`)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="de-DE", timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def parcel() -> Shipment:
    store = make_store(
        name="Kaffeerösterei Nord",
        slug="roesterei",
        display_name="Rösterei Nord",
        time_zone="Europe/Berlin",
        accent_color="#8a4b00",
    )
    shipment = make_order_shipment(
        store,
        order_number="#7788",
        email="kim.kunde@example.com",
        carrier="dhl",
        status="out_for_delivery",
        shipped_at=timezone.now() - dt.timedelta(days=2),
        estimated_delivery=timezone.now() + dt.timedelta(hours=6),
        last_synced_at=timezone.now() - dt.timedelta(minutes=12),
    )
    add_event(shipment, hours_ago=40, status="info_received", description="Label created")
    add_event(shipment, hours_ago=26, status="in_transit", description="Departed hub Leipzig")
    add_event(shipment, hours_ago=3, status="out_for_delivery", description="Out with the courier")
    return shipment


def test_a_german_browser_gets_the_german_page(live_server, german_page, parcel):
    page = german_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("#status-title").inner_text() == "In Zustellung"
    assert page.get_by_role("heading", name="Sendungsverlauf").is_visible()
    assert page.get_by_text("Zeitangaben in der Zeitzone Europe/Berlin.").is_visible()
    # Carrier text is as the carrier wrote it; its status label is translated.
    event = page.locator(".event").first
    assert event.locator(".event-status").inner_text() == "In Zustellung"
    assert event.locator(".event-description").inner_text() == "Out with the courier"
    assert re.fullmatch(r"\d{1,2}\. \w{3,4}\.? \d{4}", event.locator(".event-date").inner_text())
    nav = page.get_by_role("navigation", name="Sprache")
    assert nav.get_by_role("link", name="Deutsch").get_attribute("aria-current") == "true"
    screenshot(page, "tracking-page-de-desktop", docs=True)

    # The Resync control's script speaks German too (its texts come from the form).
    button = page.get_by_role("button", name="Neu abrufen")
    button.click()
    page.locator("[data-resync-status]").get_by_text("Wird abgerufen…").wait_for()
    page.locator(".resync-button", has_text="Wird abgerufen…").wait_for()
    # After a reload the script counts the cooldown down in German.
    page.reload()
    waiting = page.locator(".resync-button", has_text=re.compile(r"^Neu abrufen — möglich in"))
    first = waiting.inner_text()
    page.wait_for_timeout(1_200)
    assert re.fullmatch(r"Neu abrufen — möglich in \d:\d\d", waiting.inner_text())
    assert waiting.inner_text() != first


def test_a_shopper_switches_to_spanish_on_a_phone_and_it_is_remembered(
    live_server, phone_page, parcel
):
    page = phone_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    assert page.locator("#status-title").inner_text() == "Out for delivery"
    nav = page.get_by_role("navigation", name="Language")
    nav.get_by_role("link", name="Español").click()
    page.wait_for_url(re.compile(r"\?lang=es$"))
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("#status-title").inner_text() == "En reparto"
    assert page.get_by_role("button", name="Actualizar").is_visible()
    assert page.get_by_text("Pedido #7788").is_visible()
    # Nothing overflows the phone's width in the longer language.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "tracking-page-es-phone", docs=True)

    # Remembered: the plain URL (and the lookup) stay Spanish.
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    assert page.locator("#status-title").inner_text() == "En reparto"
    current = page.get_by_role("navigation", name="Idioma").get_by_role("link", name="Español")
    assert current.get_attribute("aria-current") == "true"
    assert current.get_attribute("lang") == "es"
    page.goto(f"{live_server.url}/track/")
    assert page.get_by_role("heading", name="Seguir su pedido").is_visible()
