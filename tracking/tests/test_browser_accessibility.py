"""The shopper's pages checked with axe-core in a real browser: no violation of impact "serious"
or "critical" (milder ones are printed; `pytest -s` shows them), on a desktop and on a phone, in
English and German; the stepper's steps speak their state; the Resync button works from the
keyboard.

axe-core is injected by Playwright, so these pages come from a context with `bypass_csp=True`
(see `shipments/tests/browser_fixtures.py`); the keyboard test keeps the real policy.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from notify.content import unsubscribe_token
from shipments.models import Order, ResyncJob, Shipment, Store
from shipments.tests.browser_fixtures import assert_accessible
from shipments.tests.fixtures import make_store
from tracking.safety import contrast

from .conftest import add_event, make_order_shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A pale accent (dark text must go on it) and a mid-tone one (links need a darker shade).
PALE_ACCENT = "#ffd43b"
MID_ACCENT = "#3fa34d"


@pytest.fixture
def pale_store() -> Store:
    return make_store(
        name="Sunny Side Goods",
        slug="sunny",
        display_name="Sunny Side",
        time_zone="Europe/Berlin",
        accent_color=PALE_ACCENT,
    )


@pytest.fixture
def parcel(pale_store: Store) -> Shipment:
    """The second of two parcels of one order: out for delivery after a failed attempt."""
    first = make_order_shipment(
        pale_store,
        order_number="#4242",
        email="alex.shopper@example.com",
        carrier="dhl",
        status="delivered",
        shipped_at=timezone.now() - dt.timedelta(days=4),
        last_event_at=timezone.now() - dt.timedelta(days=1),
    )
    add_event(first, hours_ago=30, status="delivered", description="Delivered to the front door")
    second = Shipment.objects.create(
        store=pale_store,
        order=first.order,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        status="failed_attempt",
        shipped_at=timezone.now() - dt.timedelta(days=2),
        estimated_delivery=timezone.now() + dt.timedelta(days=1),
        last_synced_at=timezone.now() - dt.timedelta(minutes=9),
    )
    add_event(second, hours_ago=40, status="info_received", description="Label created")
    add_event(second, hours_ago=20, status="in_transit", description="Departed hub Leipzig")
    add_event(second, hours_ago=2, status="failed_attempt", description="Nobody at home")
    return second


@pytest.fixture
def mid_parcel() -> Shipment:
    store = make_store(
        name="Green Leaf", slug="green-leaf", time_zone="UTC", accent_color=MID_ACCENT
    )
    shipment = make_order_shipment(
        store,
        order_number="#77",
        carrier="dhl",
        status="in_transit",
        tracking_number="00340434161094042557",
    )
    add_event(shipment, hours_ago=5, status="in_transit", description="In transit")
    return shipment


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_tracking_page_has_no_serious_violations(
    live_server, axe_page, axe_phone_page, parcel, device, lang
):
    page = axe_page if device == "desktop" else axe_phone_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert_accessible(page, f"tracking page, {device}, {lang}")
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_stepper_says_which_steps_are_done_current_and_upcoming(live_server, axe_page, parcel):
    page = axe_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    stepper = page.get_by_role("list", name="Delivery progress")
    steps = stepper.get_by_role("listitem")
    spoken = [" ".join(text.split()) for text in steps.all_inner_texts()]
    states = [step.get_attribute("class") for step in steps.all()]
    assert len(spoken) == len(states) >= 4
    for text, css in zip(spoken, states, strict=True):
        if "step--done" in css:
            assert text.endswith("(completed)"), text
        elif "step--current" in css:
            assert text.endswith("(current step)"), text
        else:
            assert text.endswith("(upcoming)"), text
    assert steps.filter(has_text="(current step)").get_attribute("aria-current") == "step"


def test_the_german_stepper_speaks_german(live_server, axe_page, parcel):
    page = axe_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}?lang=de")
    stepper = page.get_by_role("list", name="Zustellfortschritt")
    text = " ".join(stepper.inner_text().split())
    assert "(abgeschlossen)" in text
    assert "(aktueller Schritt)" in text
    assert "(steht noch aus)" in text


def test_state_outlines_show_on_white_with_a_pale_accent(live_server, axe_page, parcel):
    """The current package and the steps reached are marked by more than a pale fill: their
    borders keep 3:1 against the white panel (WCAG 1.4.11)."""
    page = axe_page
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    selectors = [
        ".shipment-tabs a[aria-current=page]",
        ".step--done .step-marker",
        ".step--upcoming .step-marker",
    ]
    for selector in selectors:
        rgb = page.locator(selector).first.evaluate("el => getComputedStyle(el).borderTopColor")
        red, green, blue = (int(part) for part in rgb[rgb.index("(") + 1 : -1].split(","))
        colour = f"#{red:02x}{green:02x}{blue:02x}"
        assert contrast(colour, "#ffffff") >= 3, (selector, colour)


def test_a_mid_tone_accent_stays_readable(live_server, axe_page, mid_parcel):
    page = axe_page
    page.goto(f"{live_server.url}{mid_parcel.get_tracking_url()}")
    assert_accessible(page, "tracking page, mid-tone accent")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_lookup_pages_have_no_serious_violations(
    live_server, axe_page, axe_phone_page, pale_store, device
):
    page = axe_page if device == "desktop" else axe_phone_page
    page.goto(f"{live_server.url}/track/")
    assert_accessible(page, f"lookup, {device}")

    page.goto(f"{live_server.url}/track/?store={pale_store.slug}")
    assert page.get_by_text("Sunny Side", exact=True).is_visible()
    assert_accessible(page, f"branded lookup, {device}")
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Submitted empty: the errors are tied to their fields.
    page.get_by_role("button", name="Find my order").click()
    page.locator(".field-error").first.wait_for()
    assert_accessible(page, f"lookup with errors, {device}")
    order_field = page.get_by_label("Order number")
    assert order_field.get_attribute("aria-invalid") == "true"

    # Not found: an alert, same page.
    page.get_by_label("Order number").fill("#999999")
    page.get_by_label("E-mail address").fill("nobody@example.com")
    page.get_by_role("button", name="Find my order").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, f"lookup, order not found, {device}")


def test_an_order_not_shipped_yet(live_server, axe_phone_page, pale_store):
    Order.objects.create(
        store=pale_store,
        order_number="#5001",
        customer_email="sam@example.com",
        placed_at=timezone.now() - dt.timedelta(hours=5),
    )
    page = axe_phone_page
    page.goto(f"{live_server.url}/track/?order=5001&email=sam@example.com")
    page.get_by_role("heading", name="Order #5001").wait_for()
    assert_accessible(page, "not shipped yet")


def test_the_parcel_page_by_tracking_number(live_server, axe_page, axe_phone_page, parcel):
    for page in (axe_page, axe_phone_page):
        page.goto(f"{live_server.url}/track/?tracking_number={parcel.tracking_number}")
        page.get_by_role("heading", name="Tracking history").wait_for()
        assert_accessible(page, "parcel by tracking number")


def test_the_not_found_page(live_server, axe_page):
    page = axe_page
    response = page.goto(f"{live_server.url}/track/no-such-token/")
    assert response.status == 404
    page.get_by_role("heading", name="Tracking page not found").wait_for()
    assert_accessible(page, "not found")


def test_the_unsubscribe_pages(live_server, axe_page, parcel):
    page = axe_page
    token = unsubscribe_token(parcel.order_id)
    page.goto(f"{live_server.url}{reverse('notify:unsubscribe', args=[token])}")
    assert_accessible(page, "unsubscribe")
    page.get_by_role("button", name="Stop these e-mails").click()
    page.wait_for_load_state()
    assert_accessible(page, "unsubscribed")
    page.goto(f"{live_server.url}{reverse('notify:unsubscribe', args=['forged'])}")
    assert_accessible(page, "unsubscribe, invalid link")


def test_resync_with_the_keyboard_alone(live_server, page, parcel):
    """Under the real CSP: Tab from the top of the page reaches Resync, Enter starts it."""
    page.goto(f"{live_server.url}{parcel.get_tracking_url()}")
    button = page.get_by_role("button", name="Resync")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Resync button")
    # The focus can be seen.
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline not in ("", "none")
    # Enter submits: the server accepts the shopper's resync (and has queued it when it answers).
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 202
    page.locator("[data-resync-status]").get_by_text("Resyncing…").wait_for()
    assert ResyncJob.objects.filter(shipment=parcel, source="shopper").exists()


def test_axe_itself_reports_what_these_tests_forbid(axe_page):
    """The check can fail: an unlabelled field and faint text are caught."""
    axe_page.set_content(
        '<html lang="en"><title>t</title><main><h1>t</h1>'
        '<p style="color:#aaa">faint</p><input></main></html>'
    )
    with pytest.raises(AssertionError, match="color-contrast.*\\n(.*\\n)*.*label"):
        assert_accessible(axe_page, "a broken page")
