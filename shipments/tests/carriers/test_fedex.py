"""FedEx Track API adapter: parsing of canned payloads, then the adapter over real HTTP."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import pytest

from shipments.carriers import fedex
from shipments.carriers.base import (
    CarrierRejected,
    CarrierUnavailable,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S
from shipments.redis_client import get_redis

from . import support

UTC = dt.UTC

load = support.payload_loader("fedex")
parse_one = partial(support.parse_one, fedex)
warnings_of = partial(support.warnings_of, module=fedex)


def tz(hours: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


# --- Parsing --------------------------------------------------------------------------------------


def test_out_for_delivery(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=fedex.__name__):
        result = parse_one("out_for_delivery.json", "794612345672")

    assert result == TrackingResult(
        carrier="fedex",
        tracking_number="794612345672",
        status=S.OUT_FOR_DELIVERY,
        sub_status="OD",
        raw_status_code="OD",
        raw_status_text="On FedEx vehicle for delivery",
        estimated_delivery=dt.datetime(2025, 3, 6, 13, 0, tzinfo=tz(-8)),  # window end
        origin="DALLAS, TX, US",
        destination="RENO, NV, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 6, 7, 41, tzinfo=tz(-8)),
                status=S.OUT_FOR_DELIVERY,
                description="On FedEx vehicle for delivery",
                location="RENO, NV, US",
                raw_code="OD",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 5, 22, 10, tzinfo=tz(-8)),
                status=S.IN_TRANSIT,
                description="At local FedEx facility",
                location="RENO, NV, US",
                raw_code="AR",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 3, 16, 5, tzinfo=tz(-6)),
                status=S.IN_TRANSIT,
                description="Picked up",
                location="DALLAS, TX, US",
                raw_code="PU",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 3, 10, 30, 57, tzinfo=tz(-6)),
                status=S.INFO_RECEIVED,
                description="Shipment information sent to FedEx",
                location="",
                raw_code="OC",
            ),
        ),
    )
    assert result.events[0].occurred_at.utcoffset() == dt.timedelta(hours=-8)
    assert warnings_of(caplog) == []


def test_delivered_after_a_failed_attempt() -> None:
    result = parse_one("delivered.json", "776012345678")

    assert result == TrackingResult(
        carrier="fedex",
        tracking_number="776012345678",
        status=S.DELIVERED,
        sub_status="DL",
        raw_status_code="DL",
        raw_status_text="Delivered",
        estimated_delivery=None,
        origin="COSTA MESA, CA, US",
        destination="FRESNO, CA, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 4, 26, 9, 26, tzinfo=tz(-7)),
                status=S.DELIVERED,
                description="Delivered",
                location="FRESNO, CA, US",
                raw_code="DL",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 4, 26, 7, 52, tzinfo=tz(-7)),
                status=S.OUT_FOR_DELIVERY,
                description="On FedEx vehicle for delivery",
                location="FRESNO, CA, US",
                raw_code="OD",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 4, 25, 11, 26, tzinfo=tz(-7)),
                status=S.FAILED_ATTEMPT,
                description="Delivery exception: Customer not available or business closed",
                location="FRESNO, CA, US",
                raw_code="DE",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 4, 24, 16, 5, tzinfo=tz(-7)),
                status=S.IN_TRANSIT,
                description="Picked up",
                location="COSTA MESA, CA, US",
                raw_code="PU",
            ),
        ),
    )


def test_exception_with_naive_eta_read_as_utc() -> None:
    result = parse_one("exception.json", "612999887766")

    assert result == TrackingResult(
        carrier="fedex",
        tracking_number="612999887766",
        status=S.EXCEPTION,
        sub_status="SE",
        raw_status_code="SE",
        raw_status_text="Shipment exception",
        estimated_delivery=dt.datetime(2025, 3, 8, tzinfo=UTC),
        origin="MONTREAL, QC, CA",
        destination="MEMPHIS, TN, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 7, 10, 2, tzinfo=tz(-6)),
                status=S.EXCEPTION,
                description="Shipment exception: Incorrect address",
                location="MEMPHIS, TN, US",
                raw_code="SE",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 6, 4, 15, tzinfo=tz(-5)),
                status=S.IN_TRANSIT,
                description="International shipment release - Import",
                location="MEMPHIS, TN, US",
                raw_code="CC",
            ),
        ),
    )


def test_several_track_results_take_the_most_recent() -> None:
    result = parse_one("duplicate_results.json", "449044304137821")

    assert result == TrackingResult(
        carrier="fedex",
        tracking_number="449044304137821",
        status=S.IN_TRANSIT,  # code FD; derived RL only fills sub_status
        sub_status="RL",
        raw_status_code="FD",
        raw_status_text="At FedEx destination facility",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 7, 5, 20, tzinfo=tz(-5)),
                status=S.IN_TRANSIT,
                description="At FedEx destination facility",
                location="NORWOOD, MA, US",
                raw_code="FD",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 6, 18, 0, tzinfo=tz(-5)),
                status=S.EXCEPTION,
                description="Delay: Package delayed",
                location="NORWOOD, MA, US",
                raw_code="DY",
            ),
        ),
    )
    # Whatever the order FedEx lists them in.
    payload = load("duplicate_results.json")
    payload["output"]["completeTrackResults"][0]["trackResults"].reverse()
    again = fedex.parse_track_response(payload, requested=["449044304137821"])
    assert again.results["449044304137821"] == result


def test_per_result_errors_inside_a_200() -> None:
    outcome = fedex.parse_track_response(
        load("mixed_batch.json"), requested=["776094337676", "123456789012", "000000000000"]
    )

    assert outcome.results == {
        "776094337676": TrackingResult(
            carrier="fedex",
            tracking_number="776094337676",
            status=S.AVAILABLE_FOR_PICKUP,  # code HP beats derived IT
            sub_status="IT",
            raw_status_code="HP",
            raw_status_text="Ready for recipient pickup",
            events=(
                TrackingEventData(
                    occurred_at=dt.datetime(2025, 4, 25, 13, 26, tzinfo=tz(-7)),
                    status=S.AVAILABLE_FOR_PICKUP,
                    description=(
                        "Ready for recipient pickup: "
                        "Package available for pickup at: 2420 N BLACKSTONE AVE"
                    ),
                    location="FRESNO, CA, US",
                    raw_code="HP",
                ),
            ),
        )
    }
    assert isinstance(outcome.errors["123456789012"], TrackingNumberNotFound)
    assert "TRACKING.TRACKINGNUMBER.NOTFOUND" in outcome.errors["123456789012"].message
    # Left out of FedEx's answer altogether: nothing is known, try again later.
    assert isinstance(outcome.errors["000000000000"], CarrierUnavailable)


def test_other_per_result_error_is_rejected() -> None:
    payload = load("mixed_batch.json")
    result = payload["output"]["completeTrackResults"][1]["trackResults"][0]
    result["error"] = {"code": "TRACKING.TRACKINGNUMBER.INVALID", "message": "Invalid."}
    outcome = fedex.parse_track_response(payload, requested=["123456789012"])
    assert isinstance(outcome.errors["123456789012"], CarrierRejected)


def test_unknown_codes_fall_back_to_the_derived_code_and_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=fedex.__name__):
        result = parse_one("unknown_codes.json", "398765432109")

    assert result == TrackingResult(
        carrier="fedex",
        tracking_number="398765432109",
        status=S.IN_TRANSIT,  # unknown ZX, derived IT
        sub_status="IT",
        raw_status_code="ZX",
        raw_status_text="A brand new scan",
        estimated_delivery=None,  # "someday"
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 10, 9, 0, tzinfo=tz(1)),
                status=S.IN_TRANSIT,
                description="A brand new scan",
                location="PARIS, FR",
                raw_code="ZX",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 9, 18, 0, tzinfo=tz(1)),
                status=S.PENDING,  # unknown ZY, unknown derived ZZ
                description="Something entirely new",
                location="ROISSY CHARLES DE GAULLE CEDEX, FR",
                raw_code="ZY",
            ),
        ),
    )
    logged = warnings_of(caplog)
    for expected in (
        "unknown status code 'ZX' (derived 'IT')",
        "unknown status code 'ZY' (derived 'ZZ')",
        "unknown derived status code 'ZZ'",
        "treated as pending",
        "unreadable scan date '03/09/2025 10:00'",
        "scan event without date skipped",
        "unreadable estimated delivery 'someday'",
    ):
        assert any(expected in message for message in logged), expected


def test_error_envelope() -> None:
    error = fedex.error_for_response(400, load("error_400.json"), tracking_numbers=["1", "2"])
    assert isinstance(error, CarrierRejected)
    assert "TRACKING.TRACKINGNUMBER.EMPTY" in error.message
    # The same envelope inside a 200.
    outcome = fedex.parse_track_response(load("error_400.json"), requested=["1", "2"])
    assert set(outcome.errors) == {"1", "2"}
    with pytest.raises(CarrierUnavailable):
        fedex.parse_track_response({"transactionId": "x"}, requested=["1"])


@pytest.mark.parametrize(("code", "expected"), sorted(fedex.STATUS_CODES.items()))
def test_status_table(code: str, expected: S, caplog: pytest.LogCaptureFixture) -> None:
    event = {"date": "2025-03-01T10:00:00Z", "eventType": code, "derivedStatusCode": "IT"}
    with caplog.at_level(logging.WARNING, logger=fedex.__name__):
        parsed = fedex.parse_scan_event(event)
        as_derived = fedex.map_status("", code)
    assert parsed is not None
    assert parsed.status == expected
    assert as_derived == expected
    assert warnings_of(caplog) == []


def test_free_text_is_never_read(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=fedex.__name__):
        event = fedex.parse_scan_event(
            {"date": "2025-03-01T10:00:00Z", "eventType": "Q1", "eventDescription": "Delivered"}
        )
    assert event is not None
    assert event.status == S.PENDING
    assert fedex.map_status("dl") == S.DELIVERED  # codes are case-insensitive, still exact


# --- Over HTTP ------------------------------------------------------------------------------------

NUMBER = "794612345672"
TRACK = r"^/track/v1/trackingnumbers$"
TOKEN = support.TOKEN_PATHS["fedex"]


@pytest.fixture
def api(carrier_api):
    return carrier_api("fedex", {"client_id": "fx-key", "client_secret": "fx-secret"})


def add_token(api) -> None:
    support.add_token(api, "fedex", "fedex-token-1")


def body_for(numbers: list[str]) -> dict[str, Any]:
    """A 200 answer about `numbers`, each shaped like the out-for-delivery payload."""
    template = load("out_for_delivery.json")
    [complete] = template["output"]["completeTrackResults"]
    completes = []
    for number in numbers:
        item = copy.deepcopy(complete)
        item["trackingNumber"] = number
        item["trackResults"][0]["trackingNumberInfo"]["trackingNumber"] = number
        completes.append(item)
    template["output"]["completeTrackResults"] = completes
    return template


def requested_numbers(request) -> list[str]:
    return [i["trackingNumberInfo"]["trackingNumber"] for i in request.json()["trackingInfo"]]


def test_request_shape(api) -> None:
    add_token(api)
    api.add("POST", TRACK, json=load("out_for_delivery.json"))

    outcome = fedex.FedExAdapter().track([NUMBER])

    assert outcome.results[NUMBER].status == S.OUT_FOR_DELIVERY
    [token_request] = api.requests_to(TOKEN)
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["fx-key"],
        "client_secret": ["fx-secret"],
    }
    [track_request] = api.requests_to(TRACK)
    assert track_request.method == "POST"
    assert track_request.headers["authorization"] == "Bearer fedex-token-1"
    assert track_request.headers["content-type"] == "application/json"
    assert track_request.headers["x-locale"] == "en_US"
    assert track_request.json() == {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": NUMBER}}],
    }


def test_65_numbers_are_three_posts_of_at_most_30(api) -> None:
    numbers = [f"7946{n:08d}" for n in range(65)]
    add_token(api)
    api.add("POST", TRACK, json=body_for(numbers))

    outcome = fedex.FedExAdapter().track(numbers)

    posts = api.requests_to(TRACK)
    assert sorted(len(requested_numbers(p)) for p in posts) == [5, 30, 30]
    sent = [n for p in posts for n in requested_numbers(p)]
    assert sorted(sent) == sorted(numbers)
    assert set(outcome.results) == set(numbers)
    assert outcome.errors == {}
    assert len(api.requests_to(TOKEN)) == 1


def test_token_is_fetched_once_and_cached_in_redis(api) -> None:
    add_token(api)
    api.add("POST", TRACK, json=load("out_for_delivery.json"))
    adapter = fedex.FedExAdapter()

    for _ in range(4):
        assert NUMBER in adapter.track([NUMBER]).results

    assert len(api.requests_to(TOKEN)) == 1
    assert len(api.requests_to(TRACK)) == 4
    [key] = get_redis().keys("resync:carrier:fedex:token:*")
    assert get_redis().get(key) == "fedex-token-1"
    assert 3400 < get_redis().ttl(key) <= 3599 - 60


def test_unknown_number_is_an_error_in_the_outcome(api) -> None:
    add_token(api)
    api.add("POST", TRACK, json=load("mixed_batch.json"))

    outcome = fedex.FedExAdapter().track(["776094337676", "123456789012"])

    assert outcome.results["776094337676"].status == S.AVAILABLE_FOR_PICKUP
    assert isinstance(outcome.errors["123456789012"], TrackingNumberNotFound)


def test_400_rejects_the_chunk(api) -> None:
    add_token(api)
    api.add("POST", TRACK, json=load("error_400.json"), status=400)

    outcome = fedex.FedExAdapter().track(["1", "2"])

    assert outcome.results == {}
    assert {type(e) for e in outcome.errors.values()} == {CarrierRejected}
    assert set(outcome.errors) == {"1", "2"}


def test_one_chunk_failing_leaves_the_other(api) -> None:
    numbers = [f"7946{n:08d}" for n in range(31)]
    add_token(api)
    api.add("POST", TRACK, json={}, status=503, times=1)
    api.add("POST", TRACK, json=body_for(numbers))

    outcome = fedex.FedExAdapter().track(numbers)

    assert len(outcome.results) in (1, 30)
    assert len(outcome.results) + len(outcome.errors) == 31
    assert {type(e) for e in outcome.errors.values()} == {CarrierUnavailable}
