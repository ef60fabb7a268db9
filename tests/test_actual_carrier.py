"""Shipments tracked through 17TRACK or AfterShip: the carrier that really carries the parcel is
stored by a pull, named and linked on the pages and in the JSON; shoppers never see the
aggregator (docs/carriers.md §9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shipments import services
from shipments.carriers import aftership as af
from shipments.carriers import seventeentrack as st
from shipments.carriers.statuses import Status
from shipments.models import Shipment
from shipments.tests.carriers import support
from shipments.tests.fixtures import make_shipment

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
ROYAL_MAIL_URL = "https://www.royalmail.com/track-your-item#/tracking-results/RR123456785GB"
FEDEX_URL = "https://www.fedex.com/fedextrack/?trknbr=794612345672"
AGGREGATOR_WORDS = ("17track", "aftership", "17 track", "after ship")


def _royal_mail_via_17track() -> dict:
    item = support.load_payload("17track", "gettrackinfo_documented.json")["data"]["accepted"][0]
    item["number"] = "RR123456785GB"
    item["carrier"] = 11031
    item["track_info"]["tracking"]["providers"][0]["provider"] = {
        "key": 11031,
        "name": "Royal Mail",
        "homepage": "https://www.royalmail.com",
        "country": "GB",
    }
    return item


@pytest.fixture
def via_17track(store) -> Shipment:
    shipment = make_shipment(store, carrier="17track", tracking_number="RR123456785GB")
    result = st.parse_track_info(_royal_mail_via_17track(), tracking_number="RR123456785GB")
    services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=timezone.now()
    )
    return Shipment.objects.get(pk=shipment.pk)


@pytest.fixture
def via_aftership(store) -> Shipment:
    shipment = make_shipment(store, carrier="aftership", tracking_number="794612345672")
    payload = support.load_payload("aftership", "tracking_documented_2025-01.json")
    result = af.parse_response(payload, tracking_number="794612345672")
    services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=timezone.now()
    )
    return Shipment.objects.get(pk=shipment.pk)


# --- The pull stores it ---------------------------------------------------------------------------


def test_a_pull_stores_the_real_carrier(via_17track, via_aftership):
    assert (
        via_17track.actual_carrier_code,
        via_17track.actual_carrier_name,
        via_17track.actual_carrier_url,
    ) == ("11031", "Royal Mail", ROYAL_MAIL_URL)
    assert (
        via_aftership.actual_carrier_code,
        via_aftership.actual_carrier_name,
        via_aftership.actual_carrier_url,
    ) == ("fedex", "FedEx", FEDEX_URL)


def test_a_changed_real_carrier_is_a_visible_change_and_none_keeps_the_last(via_17track):
    item = _royal_mail_via_17track()
    result = st.parse_track_info(item, tracking_number="RR123456785GB")
    now = timezone.now()
    apply = services.shipments_apply_results
    # The same answer again: nothing changed.
    assert apply(shipments=[via_17track], results={"RR123456785GB": result}, now=now) == set()

    item["carrier"] = 100002
    item["track_info"]["tracking"]["providers"][0]["provider"] = {"key": 100002, "name": "UPS"}
    ups = st.parse_track_info(item, tracking_number="RR123456785GB")
    # Another real carrier is written and moves `updated_at`, but it is not news (no new event,
    # the same status): a resync says "nothing new".
    later = now + dt.timedelta(seconds=5)
    assert apply(shipments=[via_17track], results={"RR123456785GB": ups}, now=later) == set()
    fresh = Shipment.objects.get(pk=via_17track.pk)
    assert (fresh.actual_carrier_code, fresh.actual_carrier_name) == ("ups", "UPS")
    assert fresh.updated_at == later

    # An answer that names no carrier (e.g. just registered) keeps the one we know.
    item["track_info"]["tracking"]["providers"] = []
    silent = st.parse_track_info(item, tracking_number="RR123456785GB")
    assert silent.actual_carrier_name == ""
    apply(shipments=[fresh], results={"RR123456785GB": silent}, now=now)
    assert Shipment.objects.get(pk=fresh.pk).actual_carrier_name == "UPS"


# --- The shopper's tracking page and its JSON ------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "name", "url", "code"),
    [
        ("via_17track", "Royal Mail", ROYAL_MAIL_URL, None),
        ("via_aftership", "FedEx", FEDEX_URL, "fedex"),
    ],
)
def test_tracking_page_names_and_links_the_real_carrier_never_the_aggregator(
    client, request, fixture, name, url, code
):
    shipment = request.getfixturevalue(fixture)
    page_url = shipment.get_tracking_url()

    html = client.get(page_url).content.decode()
    assert f"<dd><bdi>{name}</bdi></dd>" in html  # carrier text is isolated (bidi-safe)
    assert f'href="{url}"'.replace("&", "&amp;") in html
    response = client.get(page_url, **JSON)
    data = response.json()
    assert data["carrier_name"] == name
    assert data["carrier_url"] == url
    assert data["carrier"] == code  # our code when the real carrier is one of ours

    for text in (html.casefold(), response.content.decode().casefold()):
        for word in AGGREGATOR_WORDS:
            assert word not in text


def test_tracking_page_before_the_aggregator_named_a_carrier(client, store):
    shipment = make_shipment(store, carrier="17track", tracking_number="RR123456785GB")

    html = client.get(shipment.get_tracking_url()).content.decode()
    data = client.get(shipment.get_tracking_url(), **JSON).json()

    assert "Not known yet" in html
    assert (data["carrier"], data["carrier_name"], data["carrier_url"]) == (None, None, None)
    assert "17track" not in html.casefold()


def test_tracking_json_names_our_own_carriers_as_before(client, store):
    shipment = make_shipment(store, carrier="ups")
    data = client.get(shipment.get_tracking_url(), **JSON).json()
    assert (data["carrier"], data["carrier_name"]) == ("ups", "UPS")


# --- The merchant's details -----------------------------------------------------------------------


def test_merchant_details_name_the_real_carrier_via_the_aggregator(merchant_client, via_17track):
    url = f"/app/shipments/{via_17track.pk}/"

    data = merchant_client.get(url, **JSON).json()
    assert data["carrier"] == "17track"
    assert data["carrier_name"] == "Royal Mail"
    assert data["tracked_via"] == "17TRACK"
    assert data["carrier_url"] == ROYAL_MAIL_URL

    html = merchant_client.get(url).content.decode()
    assert "Royal Mail (via 17TRACK)" in html


def test_merchant_details_carrier_name_otherwise(merchant_client, store):
    plain = make_shipment(store, carrier="usps")
    unknown = make_shipment(store, carrier="aftership")
    none = make_shipment(store, carrier=None)

    names = {
        s.pk: merchant_client.get(f"/app/shipments/{s.pk}/", **JSON).json()
        for s in (plain, unknown, none)
    }
    assert (names[plain.pk]["carrier_name"], names[plain.pk]["tracked_via"]) == ("USPS", None)
    assert names[unknown.pk]["carrier_name"] == "AfterShip"  # not named yet: the catalogue's
    assert names[unknown.pk]["tracked_via"] == "AfterShip"
    assert names[none.pk]["carrier_name"] is None


def test_api_details_carry_carrier_name(via_aftership):
    from shipments import presenters

    payload = presenters.shipment_detail_payload(
        via_aftership, events=[], tracking_url="https://x.test/t/", retry_after=0
    )
    assert payload["carrier_name"] == "FedEx"
    assert Status(via_aftership.status) == Status.OUT_FOR_DELIVERY
