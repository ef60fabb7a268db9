"""The real carrier behind 17TRACK and AfterShip, as their answers name it (docs/carriers.md §9)."""

from __future__ import annotations

import copy

import pytest

from shipments.carriers import actual
from shipments.carriers import aftership as af
from shipments.carriers import seventeentrack as st

from . import support

load_17track = support.payload_loader("17track")
load_aftership = support.payload_loader("aftership")


def _actual(result) -> tuple[str, str, str]:
    return result.actual_carrier_code, result.actual_carrier_name, result.actual_carrier_url


# --- 17TRACK -------------------------------------------------------------------------------------


def test_17track_documented_answer_names_china_post():
    outcome = st.parse_track_response(
        load_17track("gettrackinfo_documented.json"), requested=["LX123456789CN", "XX0000000"]
    )

    result = outcome.results["LX123456789CN"]
    # Not one of ours: 17TRACK's own key and the provider's name; no public page we know.
    assert _actual(result) == ("3011", "China Post", "")
    assert "XX0000000" in outcome.errors


def _with_provider(provider: dict, *, carrier: int | None = None) -> dict:
    item = copy.deepcopy(load_17track("gettrackinfo_documented.json")["data"]["accepted"][0])
    item["carrier"] = provider["key"] if carrier is None else carrier
    item["track_info"]["tracking"]["providers"][0]["provider"] = provider
    return item


def test_17track_royal_mail_links_to_royal_mails_own_page():
    item = _with_provider(
        {
            "key": 11031,
            "name": "Royal Mail",
            "homepage": "https://www.royalmail.com",
            "country": "GB",
        }
    )

    result = st.parse_track_info(item, tracking_number="RR123456785GB")

    assert _actual(result) == (
        "11031",
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/RR123456785GB",
    )


@pytest.mark.parametrize(
    ("key", "name", "code", "shown"),
    [
        (100001, "DHL Express", "dhl", "DHL"),
        (7041, "DHL Paket", "dhl", "DHL"),
        (100002, "UPS", "ups", "UPS"),
        (100003, "FedEx", "fedex", "FedEx"),
        (21051, "USPS", "usps", "USPS"),
    ],
)
def test_17track_keys_of_our_carriers_map_to_our_code_and_link(key, name, code, shown):
    result = st.parse_track_info(_with_provider({"key": key, "name": name}), tracking_number="N 1")

    assert _actual(result) == (code, shown, actual.tracking_url(code, shown, "N 1"))
    assert result.actual_carrier_url.endswith("N%201")


def test_17track_picks_the_registered_carrier_among_providers():
    # Last mile (USPS) first, then the carrier the number is registered with (China Post, 3011).
    result = st.parse_track_info(
        load_17track("gettrackinfo_in_transit.json")["data"]["accepted"][0]
    )
    assert _actual(result)[:2] == ("3011", "China Post")


def test_17track_without_the_registered_key_takes_the_first_named_provider():
    item = _with_provider({"key": 100002, "name": "UPS"}, carrier=0)
    assert _actual(st.parse_track_info(item))[:2] == ("ups", "UPS")


def test_17track_without_providers_knows_no_carrier():
    item = load_17track("gettrackinfo_documented.json")["data"]["accepted"][0]
    item["track_info"]["tracking"]["providers"] = []
    assert _actual(st.parse_track_info(item)) == ("", "", "")


def test_17track_never_reports_itself_as_the_carrier():
    item = _with_provider({"key": 9999, "name": "17TRACK"})
    assert _actual(st.parse_track_info(item)) == ("", "", "")


# --- AfterShip -----------------------------------------------------------------------------------


def test_aftership_documented_answer_names_fedex_with_fedexs_page():
    result = af.parse_response(
        load_aftership("tracking_documented_2025-01.json"), tracking_number="794612345672"
    )

    assert _actual(result) == (
        "fedex",
        "FedEx",
        "https://www.fedex.com/fedextrack/?trknbr=794612345672",
    )


def test_aftership_courier_tracking_link_wins():
    payload = load_aftership("tracking_2025-01.json")
    payload["data"]["slug"] = "royal-mail"
    payload["data"]["courier_tracking_link"] = "https://www.royalmail.com/track?n=RR384761925SG"

    result = af.parse_response(payload, tracking_number="RR384761925SG")

    assert _actual(result) == (
        "royal-mail",
        "Royal Mail",
        "https://www.royalmail.com/track?n=RR384761925SG",
    )


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "https://track.aftership.com/RR384761925SG", "/relative"]
)
def test_aftership_unsafe_or_aggregator_links_are_not_used(link):
    payload = load_aftership("tracking_2025-01.json")
    payload["data"]["courier_tracking_link"] = link

    result = af.parse_response(payload, tracking_number="RR384761925SG")

    assert result.actual_carrier_url == (
        "https://www.singpost.com/track-items?trackingid=RR384761925SG"
    )


def test_aftership_unknown_slug_is_shown_as_words_without_a_link():
    payload = load_aftership("tracking_2025-01.json")
    payload["data"]["slug"] = "speedy-parcels-bg"

    result = af.parse_response(payload, tracking_number="RR384761925SG")

    assert _actual(result) == ("speedy-parcels-bg", "Speedy Parcels Bg", "")


@pytest.mark.parametrize("slug", ["", "aftership-sandbox"])
def test_aftership_no_or_own_slug_knows_no_carrier(slug):
    payload = load_aftership("tracking_2025-01.json")
    payload["data"]["slug"] = slug

    result = af.parse_response(payload, tracking_number="RR384761925SG")

    assert _actual(result) == ("", "", "")
