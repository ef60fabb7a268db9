"""DHL Unified Tracking adapter: parsing of canned payloads, then the adapter over real HTTP."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shipments.carriers import dhl
from shipments.carriers.base import (
    CarrierRejected,
    CarrierUnavailable,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S

from . import support

UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))
BERLIN = ZoneInfo("Europe/Berlin")

load = support.payload_loader("dhl")
parse_one = partial(support.parse_one, dhl)
warnings_of = partial(support.warnings_of, module=dhl)


# --- Parsing --------------------------------------------------------------------------------------


def test_parcel_in_transit_refined_to_out_for_delivery() -> None:
    result = parse_one("parcel_out_for_delivery.json", "00340434161094042557")

    assert result == TrackingResult(
        carrier="dhl",
        tracking_number="00340434161094042557",
        status=S.OUT_FOR_DELIVERY,
        sub_status="",
        raw_status_code="transit",
        raw_status_text="loaded onto delivery vehicle",
        estimated_delivery=dt.datetime(2025, 3, 4, 17, 0, tzinfo=UTC),
        origin="Bonn, DE",
        destination="Berlin, DE",
        events=(
            TrackingEventData(
                # No offset and no country: the wall clock is kept, its zone unknown.
                occurred_at=dt.datetime(2025, 3, 4, 9, 12, tzinfo=UTC),
                status=S.OUT_FOR_DELIVERY,
                description="Parcel is on the vehicle for today's delivery round.",
                location="Berlin",
                raw_code="transit",
                wall_clock=dt.datetime(2025, 3, 4, 9, 12),
                time_zone_known=False,
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 4, 4, 30, tzinfo=BERLIN),  # DE: one zone
                status=S.IN_TRANSIT,
                description="The shipment has been processed in the destination parcel center",
                location="Berlin, DE",
                raw_code="transit",
                wall_clock=dt.datetime(2025, 3, 4, 4, 30),
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 3, 18, 40, tzinfo=UTC),
                status=S.INFO_RECEIVED,
                description="Sender has transmitted the shipment data.",
                location="Bonn",
                raw_code="pre-transit",
                wall_clock=dt.datetime(2025, 3, 3, 18, 40),
                time_zone_known=False,
            ),
        ),
    )


def test_naive_timestamps_are_local_and_offsets_are_kept() -> None:
    result = parse_one("parcel_out_for_delivery.json", "00340434161094042557")
    assert result.events[1].occurred_at.tzinfo == BERLIN
    assert result.events[1].time_zone_known
    assert not result.events[0].time_zone_known  # no country: never claimed as UTC
    express = parse_one("express_delivered.json", "7777777770")
    assert express.events[0].occurred_at.utcoffset() == dt.timedelta(hours=1)
    assert express.events[0].wall_clock is None


def test_express_delivered_with_numeric_id_and_reference_object() -> None:
    payload = load("express_delivered.json")
    assert isinstance(payload["shipments"][0]["id"], int)

    result = parse_one("express_delivered.json", "7777777770")

    assert result == TrackingResult(
        carrier="dhl",
        tracking_number="7777777770",
        status=S.DELIVERED,
        sub_status="",
        raw_status_code="delivered",
        raw_status_text="DELIVERED",
        estimated_delivery=dt.datetime(2025, 2, 28, 18, 0, tzinfo=CET),
        origin="London, GB",
        destination="Leipzig, DE",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 2, 28, 14, 5, 31, tzinfo=CET),
                status=S.DELIVERED,
                description="Delivered - Signed for by: K. Weber",
                location="Leipzig, DE",
                raw_code="delivered",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 2, 28, 7, 48, tzinfo=CET),
                status=S.OUT_FOR_DELIVERY,
                description="With delivery courier",
                location="Leipzig, DE",
                raw_code="transit",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 2, 27, 21, 14, tzinfo=UTC),
                status=S.IN_TRANSIT,
                description="Departed Facility in EAST MIDLANDS - UK",
                location="East Midlands, GB",
                raw_code="transit",
            ),
            TrackingEventData(
                # A bare date: local midnight in London (GMT in February).
                occurred_at=dt.datetime(2025, 2, 26, 0, 0, tzinfo=UTC),
                status=S.INFO_RECEIVED,
                description="Shipment information received",
                location="London, GB",
                raw_code="pre-transit",
                wall_clock=dt.datetime(2025, 2, 26),
            ),
        ),
    )
    assert dhl.parse_references(payload["shipments"][0]) == (("customer-reference", "PO-88231"),)


def test_failure_is_an_exception_and_snake_case_status_refines_transit() -> None:
    result = parse_one("failure_returned.json", "00340434161094099994")

    text = "The shipment could not be delivered, and is being returned to the sender"
    assert result == TrackingResult(
        carrier="dhl",
        tracking_number="00340434161094099994",
        status=S.EXCEPTION,
        sub_status="",
        raw_status_code="failure",
        raw_status_text=text,
        estimated_delivery=None,
        origin="Hamburg, DE",
        destination="Munich, DE",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 10, 11, 20, tzinfo=BERLIN),
                status=S.EXCEPTION,
                description=text,
                location="Munich, DE",
                raw_code="failure",
                wall_clock=dt.datetime(2025, 3, 10, 11, 20),
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 9, 8, 2, tzinfo=BERLIN),
                status=S.OUT_FOR_DELIVERY,  # status "OUT_FOR_DELIVERY"
                description="The shipment has been loaded onto the delivery vehicle",
                location="Munich, DE",
                raw_code="transit",
                wall_clock=dt.datetime(2025, 3, 9, 8, 2),
            ),
        ),
    )


def test_unknown_code_is_pending_and_logged_bad_timestamps_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=dhl.__name__):
        result = parse_one("unknown_code.json", "00340434161094011113")

    assert result == TrackingResult(
        carrier="dhl",
        tracking_number="00340434161094011113",
        status=S.PENDING,
        sub_status="",
        raw_status_code="customs-hold",
        raw_status_text="held by customs",
        estimated_delivery=None,
        origin="",
        destination="Wien, AT",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 12, 10, 0, tzinfo=CET),
                status=S.PENDING,
                description="The shipment is held by customs.",
                location="",
                raw_code="customs-hold",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 11, 16, 45, tzinfo=BERLIN),
                status=S.IN_TRANSIT,
                description="The shipment has been processed in the parcel center",
                location="Leipzig, DE",
                raw_code="transit",
                wall_clock=dt.datetime(2025, 3, 11, 16, 45),
            ),
        ),
    )
    logged = warnings_of(caplog)
    assert any("unknown statusCode 'customs-hold'" in m for m in logged)
    assert any("unreadable event timestamp '2025-13-45T99:00:00'" in m for m in logged)
    assert any("without timestamp" in m for m in logged)


def test_without_shipment_status_the_newest_event_is_latest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Asked by piece id; DHL answers with the shipment's own id: its one shipment answers.
    with caplog.at_level(logging.WARNING, logger=dhl.__name__):
        result = parse_one("events_only.json", "JVGL0612345678")

    assert result == TrackingResult(
        carrier="dhl",
        tracking_number="JVGL0612345678",
        status=S.INFO_RECEIVED,
        sub_status="",
        raw_status_code="pre-transit",
        raw_status_text="Shipment information received",
        estimated_delivery=None,  # "not a date"
        origin="",
        destination="",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 1, 10, 0, tzinfo=BERLIN),
                status=S.INFO_RECEIVED,
                description="Shipment information received",
                location="Cologne, DE",
                raw_code="pre-transit",
                wall_clock=dt.datetime(2025, 3, 1, 10, 0),
            ),
        ),
    )
    assert any("unreadable estimated delivery 'not a date'" in m for m in warnings_of(caplog))


def test_several_shipments_are_matched_by_id() -> None:
    payload = load("two_shipments.json")

    one = dhl.parse_track_response(payload, requested=["1234567890"])
    assert one.results["1234567890"].status == S.IN_TRANSIT
    assert one.results["1234567890"].events[0].location == "DUBAI - UAE, AE"

    both = dhl.parse_track_response(payload, requested=["9999999999", "1234567890"])
    assert both.results["9999999999"].status == S.DELIVERED
    assert both.results["9999999999"].events == ()
    assert both.results["1234567890"].raw_status_text == "Processed at DUBAI - UAE"

    missing = dhl.parse_track_response(payload, requested=["1234567890", "5555555555"])
    assert set(missing.results) == {"1234567890"}
    assert isinstance(missing.errors["5555555555"], TrackingNumberNotFound)


@pytest.mark.parametrize(
    ("references", "expected"),
    [
        ([{"number": "A-1", "type": "customer-reference"}], (("customer-reference", "A-1"),)),
        ({"number": "B-2", "type": "housebill"}, (("housebill", "B-2"),)),
        ([], ()),
        (None, ()),
        ("garbage", ()),
    ],
)
def test_references_array_or_object(references: Any, expected: tuple) -> None:
    assert dhl.parse_references({"details": {"references": references}}) == expected


def test_references_in_either_shape_parse_the_same() -> None:
    payload = load("parcel_out_for_delivery.json")
    as_array = dhl.parse_track_response(payload, requested=["00340434161094042557"])
    payload["shipments"][0]["details"]["references"] = {"number": "ORDER-1001", "type": "x"}
    as_object = dhl.parse_track_response(payload, requested=["00340434161094042557"])
    assert as_array == as_object


@pytest.mark.parametrize(("code", "expected"), sorted(dhl.STATUS_CODES.items()))
def test_status_table(code: str, expected: S, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=dhl.__name__):
        event = dhl.parse_event(
            {"timestamp": "2025-03-01T10:00:00Z", "statusCode": code, "status": "x"}
        )
    assert event is not None
    assert event.status == expected
    assert warnings_of(caplog) == []


def test_status_table_is_the_whole_dhl_enum() -> None:
    assert set(dhl.STATUS_CODES) == {"pre-transit", "transit", "delivered", "failure", "unknown"}


@pytest.mark.parametrize("text", sorted(dhl.TRANSIT_REFINEMENTS))
def test_transit_refinements(text: str) -> None:
    assert dhl.map_status("transit", text) == dhl.TRANSIT_REFINEMENTS[text]
    assert dhl.map_status("transit", text.upper().replace(" ", "_") + ".") == S.OUT_FOR_DELIVERY


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("transit", "Your parcel will be out for delivery tomorrow", S.IN_TRANSIT),
        ("transit", "not loaded onto delivery vehicle yet", S.IN_TRANSIT),
        ("pre-transit", "out for delivery", S.INFO_RECEIVED),  # only transit is refined
        ("failure", "out for delivery", S.EXCEPTION),
        ("TRANSIT", "", S.IN_TRANSIT),
    ],
)
def test_no_substring_guessing(code: str, text: str, expected: S) -> None:
    assert dhl.map_status(code, text) == expected


def test_unreadable_body_is_unavailable() -> None:
    with pytest.raises(CarrierUnavailable):
        dhl.parse_track_response(["not", "an", "object"], requested=["1"])
    with pytest.raises(CarrierUnavailable):
        dhl.parse_track_response({"title": "odd"}, requested=["1"])


def test_error_for_response() -> None:
    not_found = dhl.error_for_response(404, load("not_found.json"), tracking_number="123")
    assert isinstance(not_found, TrackingNumberNotFound)
    assert "No shipment with given tracking number found." in not_found.message
    rejected = dhl.error_for_response(400, {"title": "Bad Request"}, tracking_number="123")
    assert isinstance(rejected, CarrierRejected)
    assert isinstance(dhl.error_for_response(400, None, tracking_number="1"), CarrierRejected)


# --- Over HTTP ------------------------------------------------------------------------------------

NUMBER = "00340434161094042557"


@pytest.fixture
def api(carrier_api):
    return carrier_api("dhl", {"api_key": "k-123"})


def test_request_shape_and_result(api) -> None:
    api.add("GET", r"^/track/shipments$", json=load("parcel_out_for_delivery.json"))

    outcome = dhl.DHLAdapter().track([NUMBER])

    assert outcome.errors == {}
    assert outcome.results[NUMBER].status == S.OUT_FOR_DELIVERY
    [request] = api.requests
    assert request.method == "GET"
    assert request.path == "/track/shipments"
    assert request.query == {"trackingNumber": [NUMBER]}
    assert request.headers["dhl-api-key"] == "k-123"
    assert request.headers["accept"] == "application/json"


def test_sandbox_url_replaces_the_real_host(settings, carrier_api) -> None:
    replay = carrier_api("dhl", {"api_key": "k"})
    settings.CARRIER_API_BASE_URLS = {**settings.CARRIER_API_BASE_URLS, "dhl": ""}
    settings.CARRIER_SANDBOX_URL = replay.url + "/"
    replay.add("GET", r"^/track/shipments$", json=load("parcel_out_for_delivery.json"))

    assert NUMBER in dhl.DHLAdapter().track([NUMBER]).results


def test_one_request_per_number_and_404_is_not_found(api) -> None:
    api.add("GET", r"^/track/shipments$", json=load("parcel_out_for_delivery.json"), times=2)
    api.add(
        "GET",
        r"^/track/shipments$",
        json=load("not_found.json"),
        status=404,
        headers={"Content-Type": "application/problem+json"},
    )
    numbers = ["00340434161094042557", "00340434161094042564", "00340434161094000001"]

    outcome = dhl.DHLAdapter().track([*numbers, numbers[0]])  # a repeat is asked once

    assert sorted(r.query["trackingNumber"][0] for r in api.requests) == sorted(numbers)
    assert len(outcome.results) == 2
    [(_, error)] = outcome.errors.items()
    assert isinstance(error, TrackingNumberNotFound)


def test_single_unknown_number_is_an_error_not_an_exception(api) -> None:
    api.add("GET", r"^/track/shipments$", json=load("not_found.json"), status=404)
    outcome = dhl.DHLAdapter().track(["00340434161094000001"])
    assert outcome.results == {}
    assert isinstance(outcome.errors["00340434161094000001"], TrackingNumberNotFound)


def test_one_number_failing_transiently_stays_in_errors(api) -> None:
    api.add("GET", r"^/track/shipments$", json={"status": 500}, status=500, times=1)
    api.add("GET", r"^/track/shipments$", json=load("parcel_out_for_delivery.json"))

    outcome = dhl.DHLAdapter().track([NUMBER, "00340434161094042564"])

    assert len(outcome.results) == 1
    [(_, error)] = outcome.errors.items()
    assert isinstance(error, CarrierUnavailable)
