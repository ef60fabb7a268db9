"""USPS Tracking v3: the pure parser on canned payloads, then the adapter over real HTTP."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import parse_qs

import pytest

from shipments.carriers import usps
from shipments.carriers.base import (
    CarrierUnavailable,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S

from . import support
from .support import at

UTC = dt.UTC

load = support.payload_loader("usps")


# --- Parse half ----------------------------------------------------------------------------------


def test_out_for_delivery_parses_to_the_exact_result():
    result = usps.parse_tracking(
        load("out_for_delivery.json"), tracking_number="9400136105541234567890"
    )

    assert result == TrackingResult(
        carrier="usps",
        tracking_number="9400136105541234567890",
        status=S.OUT_FOR_DELIVERY,
        sub_status="",
        raw_status_code="OF",
        raw_status_text="Out for Delivery",
        estimated_delivery=at("2025-04-09T00:00:00+00:00"),
        origin="PORTLAND, OR 97205",
        destination="BOISE, ID 83702",
        events=(
            TrackingEventData(
                occurred_at=at("2025-04-09T06:52:00-06:00"),
                status=S.OUT_FOR_DELIVERY,
                description="Out for Delivery",
                location="BOISE, ID 83702",
                raw_code="OF",
            ),
            TrackingEventData(
                occurred_at=at("2025-04-08T21:14:00-07:00"),
                status=S.IN_TRANSIT,
                description="Departed USPS Regional Facility",
                location="PORTLAND OR DISTRIBUTION CENTER",
                raw_code="T1",
            ),
            TrackingEventData(
                occurred_at=at("2025-04-07T16:30:00-07:00"),
                status=S.IN_TRANSIT,
                description="USPS in possession of item",
                location="PORTLAND, OR 97205",
                raw_code="03",
            ),
            TrackingEventData(
                occurred_at=at("2025-04-07T09:05:00-07:00"),
                status=S.INFO_RECEIVED,
                description="Shipping Label Created, USPS Awaiting Item",
                location="PORTLAND, OR 97205",
                raw_code="GX",
            ),
        ),
    )
    # The instant comes from GMTTimestamp; the event keeps its own local offset for display.
    assert result.events[0].occurred_at.utcoffset() == dt.timedelta(hours=-6)
    assert all(e.occurred_at.tzinfo is not None for e in result.events)


def test_real_response_quirks_are_tolerated(caplog):
    """String booleans, odd key casing, unpadded offsets, null GMT time, a garbled event."""
    caplog.set_level(logging.WARNING, logger="shipments.carriers.usps")

    result = usps.parse_tracking(
        load("delivered_real_quirks.json"), tracking_number="9205590164917312751089"
    )

    assert result == TrackingResult(
        carrier="usps",
        tracking_number="9205590164917312751089",
        status=S.DELIVERED,
        raw_status_code="01",
        raw_status_text="Delivered, In/At Mailbox",
        # expectedDeliveryTimeStamp is null: the predicted date (midnight UTC) stands in.
        estimated_delivery=at("2025-05-14T00:00:00+00:00"),
        origin="TAMPA, FL 33602",
        destination="ATHENS, GA 30601",
        events=(
            TrackingEventData(
                occurred_at=at("2025-05-14T15:07:32+00:00"),
                status=S.DELIVERED,
                description="Delivered, In/At Mailbox",
                location="ATHENS, GA 30601",
                raw_code="01",
            ),
            TrackingEventData(  # lower-case gmtTimestamp / gmtOffset, offset "-4:00"
                occurred_at=at("2025-05-13T23:20:00+00:00"),
                status=S.IN_TRANSIT,
                description="Arrived at USPS Regional Facility",
                location="ATLANTA GA DISTRIBUTION CENTER",
                raw_code="A1",
            ),
            TrackingEventData(  # GMTTimestamp null: local time + unpadded GMTOffset
                occurred_at=at("2025-05-12T17:45:00-04:00"),
                status=S.IN_TRANSIT,
                description="Departed Post Office",
                location="TAMPA, FL 33602",
                raw_code="SF",
            ),
            TrackingEventData(  # fractional seconds in GMTTimestamp
                occurred_at=at("2025-05-12T18:41:07.041+00:00"),
                status=S.IN_TRANSIT,
                description="USPS picked up item",
                location="TAMPA, FL 33602",
                raw_code="03",
            ),
        ),
    )
    assert result.events[1].occurred_at.utcoffset() == dt.timedelta(hours=-4)
    # The garbled "MA" event is skipped, and said so.
    messages = [r.getMessage() for r in caplog.records]
    assert any("not a date" in m for m in messages)
    assert any("skipping an event" in m for m in messages)


def test_return_to_sender_is_an_exception():
    result = usps.parse_tracking(
        load("returned_to_sender.json"), tracking_number="9361289701090012345672"
    )
    assert result.status == S.EXCEPTION
    assert result.raw_status_code == "21"
    assert result.raw_status_text == "Return to Sender"
    assert result.estimated_delivery is None
    assert [(e.raw_code, e.status) for e in result.events] == [
        ("21", S.EXCEPTION),
        ("07", S.IN_TRANSIT),
    ]


def test_unknown_event_code_maps_to_pending_and_is_logged(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.usps")

    result = usps.parse_tracking(
        load("unknown_code.json"), tracking_number="9400111899223344556677"
    )

    assert result.status == S.PENDING
    assert result.raw_status_code == "U1"
    assert result.raw_status_text == "In Transit, Arriving Late"
    assert result.events[0].status == S.PENDING
    assert result.events[1].status == S.IN_TRANSIT
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "unknown event code 'U1'" in caplog.records[0].getMessage()


def test_no_events_is_pending():
    payload = {"trackingNumber": "9400100000000000000000", "status": "Pre-Shipment"}
    result = usps.parse_tracking(payload, tracking_number="9400100000000000000000")
    assert result.status == S.PENDING
    assert result.events == ()
    assert result.raw_status_text == "Pre-Shipment"


def test_local_time_without_any_offset_is_read_as_utc():
    payload = {
        "trackingEvents": [
            {"eventType": "Processed", "eventTimestamp": "2025-01-02T03:04:05", "eventCode": 10}
        ]
    }
    result = usps.parse_tracking(payload, tracking_number="X")
    assert result.events[0].occurred_at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    # A numeric event code is read as the two-digit code it stands for.
    assert result.events[0].raw_code == "10"
    assert result.status == S.IN_TRANSIT


@pytest.mark.parametrize(("code", "expected"), sorted(usps.EVENT_CODES.items()))
def test_event_code_table(code, expected, caplog):
    assert usps.map_event_code(code) == expected
    assert caplog.records == []


def test_event_code_table_covers_every_code_of_the_format_notes():
    codes = {
        S.INFO_RECEIVED: "GX MA TM PA",
        S.IN_TRANSIT: "03 10 07 80 81 82 PC EF SF A1 T1 TL 06 08 15 19 41 42",
        S.OUT_FOR_DELIVERY: "OF",
        S.FAILED_ATTEMPT: "02 30 51 52 53 54 55 56 71",
        S.AVAILABLE_FOR_PICKUP: "14 16",
        S.DELIVERED: "01 17 43",
        S.EXCEPTION: "04 05 09 11 21 22 23 24 25 26 27 28 29 31 44",
    }
    expected = {code: status for status, text in codes.items() for code in text.split()}
    assert expected == usps.EVENT_CODES


def test_keys_are_found_whatever_their_casing():
    assert usps.get_field({"uniqueMailPieceID": "1"}, "uniqueMailPieceId") == "1"
    assert usps.get_field({"RRAMenabled": "true"}, "RRAMEnabled") == "true"
    assert usps.get_field({"a": 1}, "b") is None
    assert usps.get_field(None, "a") is None


def test_error_message_reads_the_error_envelope():
    assert usps.error_message(load("not_found_404.json")).startswith("The tracking number may")
    assert usps.error_message(load("token_invalid_client.json")) == "Client authentication failed."
    assert usps.error_message("nonsense") == ""


# --- Network half --------------------------------------------------------------------------------

TOKEN_PATH = support.TOKEN_PATHS["usps"]
TRACK_PATH = r"^/tracking/v3/tracking/"


@pytest.fixture
def api(carrier_api):
    return carrier_api("usps", {"client_id": "resync-usps-client", "client_secret": "s3cret"})


def add_token(replay, token: str = "usps-test-access-token-1", **rule: Any) -> None:  # noqa: S107
    support.add_token(replay, "usps", token, **rule)


def test_request_shape(api):
    add_token(api)
    api.add("GET", TRACK_PATH, json=load("out_for_delivery.json"))

    outcome = usps.USPSAdapter().track(["9400136105541234567890"])

    assert outcome.results["9400136105541234567890"].status == S.OUT_FOR_DELIVERY
    assert outcome.errors == {}
    token_call, track_call = api.requests
    assert token_call.method == "POST"
    assert token_call.path == "/oauth2/v3/token"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_call.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["resync-usps-client"],
        "client_secret": ["s3cret"],
        "scope": ["tracking"],
    }
    assert track_call.method == "GET"
    assert track_call.path == "/tracking/v3/tracking/9400136105541234567890"
    assert track_call.query == {"expand": ["DETAIL"]}
    assert track_call.headers["authorization"] == "Bearer usps-test-access-token-1"


def test_token_is_fetched_once_and_reused_across_calls_and_threads(api):
    add_token(api)
    api.add("GET", TRACK_PATH, json=load("out_for_delivery.json"))
    adapter = usps.USPSAdapter()

    for call in range(3):
        numbers = [f"94001000000000000{call}{i:04d}" for i in range(6)]
        outcome = adapter.track(numbers)
        assert set(outcome.results) == set(numbers)

    assert len(api.requests_to(TOKEN_PATH)) == 1
    assert len(api.requests_to(TRACK_PATH)) == 18


def test_many_threads_seeing_a_401_share_one_refresh(api):
    add_token(api, "old-token", times=1)
    add_token(api, "new-token")
    numbers = [f"9400100000000000000{i:03d}" for i in range(8)]
    # Every first request is refused; the delay lets all eight arrive before any retry does.
    api.add("GET", TRACK_PATH, status=401, json=load("unauthorized_401.json"), times=8, delay=0.3)
    api.add("GET", TRACK_PATH, json=load("out_for_delivery.json"))

    outcome = usps.USPSAdapter().track(numbers)

    assert set(outcome.results) == set(numbers)
    assert len(api.requests_to(TOKEN_PATH)) == 2


def test_unknown_number_is_not_found_next_to_a_good_one(api):
    add_token(api)
    api.add(
        "GET", r"/tracking/9400100000000000000000$", status=404, json=load("not_found_404.json")
    )
    api.add("GET", TRACK_PATH, json=load("out_for_delivery.json"))

    outcome = usps.USPSAdapter().track(["9400100000000000000000", "9400136105541234567890"])

    assert set(outcome.results) == {"9400136105541234567890"}
    error = outcome.errors["9400100000000000000000"]
    assert isinstance(error, TrackingNumberNotFound)
    assert "may be incorrect" in error.message


def test_every_number_not_found_is_not_raised(api):
    add_token(api)
    api.add("GET", TRACK_PATH, status=404, json=load("not_found_404.json"))

    outcome = usps.USPSAdapter().track(["A1", "A2"])

    assert outcome.results == {}
    assert {type(e) for e in outcome.errors.values()} == {TrackingNumberNotFound}


def test_one_failing_number_does_not_fail_the_others(api):
    add_token(api)
    api.add("GET", r"/tracking/BROKEN$", status=503, body="")
    api.add("GET", TRACK_PATH, json=load("out_for_delivery.json"))

    outcome = usps.USPSAdapter().track(["BROKEN", "9400136105541234567890"])

    assert set(outcome.results) == {"9400136105541234567890"}
    assert isinstance(outcome.errors["BROKEN"], CarrierUnavailable)
