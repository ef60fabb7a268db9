"""UPS Track API adapter: parsing of canned payloads, then the adapter over real HTTP."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import logging
from functools import partial
from urllib.parse import parse_qs

import pytest

from shipments.carriers import ups
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

load = support.payload_loader("ups")
parse_one = partial(support.parse_one, ups)
warnings_of = partial(support.warnings_of, module=ups)


# --- Parsing --------------------------------------------------------------------------------------


def test_out_for_delivery_and_the_three_time_sources(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        result = parse_one("out_for_delivery.json", "1Z4E12340312345675")

    assert result == TrackingResult(
        carrier="ups",
        tracking_number="1Z4E12340312345675",
        status=S.OUT_FOR_DELIVERY,
        sub_status="Out for Delivery",
        raw_status_code="021",
        raw_status_text="Out For Delivery Today",
        estimated_delivery=dt.datetime(2025, 3, 6, 23, 59, tzinfo=UTC),
        origin="Dallas, TX, US",
        destination="Chicago, IL, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 6, 13, 15, tzinfo=UTC),  # gmtDate/gmtTime
                status=S.OUT_FOR_DELIVERY,
                description="Out For Delivery Today",
                location="Chicago, IL, US",
                raw_code="021",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 5, 7, 47, tzinfo=UTC),  # gmtTime "74700"
                status=S.IN_TRANSIT,
                description="Arrived at Facility",
                location="Hodgkins, IL, US",
                raw_code="005",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 5, 1, 30, tzinfo=UTC),  # local 19:30 at -06:00
                status=S.IN_TRANSIT,
                description="Departed from Facility",
                location="Dallas, TX, US",
                raw_code="005",
            ),
            TrackingEventData(
                # Local time without offset in the US without a state: zone unknown.
                occurred_at=dt.datetime(2025, 3, 3, 10, 12, tzinfo=UTC),
                status=S.INFO_RECEIVED,
                description="Shipper created a label, UPS has not received the package yet.",
                location="US",
                raw_code="003",
                wall_clock=dt.datetime(2025, 3, 3, 10, 12),
                time_zone_known=False,
            ),
        ),
    )
    # Shown in the scan's own offset.
    assert result.events[0].occurred_at.utcoffset() == dt.timedelta(hours=-6)
    assert result.events[0].occurred_at.hour == 7
    assert warnings_of(caplog) == []


def test_delivered_with_a_pickup_type_p_activity(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        result = parse_one("delivered.json", "1Z999AA10123456784")

    assert result == TrackingResult(
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        status=S.DELIVERED,
        sub_status="Delivered",
        raw_status_code="011",
        raw_status_text="DELIVERED",
        estimated_delivery=None,  # only the actual delivery date (DEL)
        origin="Atlanta, GA, US",
        destination="New York, NY, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 7, 19, 30, tzinfo=UTC),
                status=S.DELIVERED,
                description="DELIVERED",
                location="New York, NY, US",
                raw_code="011",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 7, 11, 41, tzinfo=UTC),
                status=S.OUT_FOR_DELIVERY,
                description="Loaded on Delivery Vehicle",
                location="New York, NY, US",
                raw_code="072",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 4, 22, 30, tzinfo=UTC),
                status=S.IN_TRANSIT,  # type "P", no statusCode
                description="Pickup Scan",
                location="Atlanta, GA, US",
                raw_code="P",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 3, 14, 0, tzinfo=UTC),
                status=S.INFO_RECEIVED,
                description="Shipper created a label, UPS has not received the package yet.",
                location="US",
                raw_code="003",
            ),
        ),
    )
    assert warnings_of(caplog) == []


def test_exception_and_failed_attempt_rescheduled_eta() -> None:
    result = parse_one("exception.json", "1Z5F32190398765432")

    assert result == TrackingResult(
        carrier="ups",
        tracking_number="1Z5F32190398765432",
        status=S.EXCEPTION,
        sub_status="Address Information Required",
        raw_status_code="050",
        raw_status_text="The address is incomplete. We're attempting to update this address.",
        estimated_delivery=dt.datetime(2025, 3, 12, tzinfo=UTC),  # RDD beats SDD
        origin="Toronto, ON, CA",
        destination="Phoenix, AZ, US",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 11, 16, 5, tzinfo=UTC),
                status=S.EXCEPTION,
                description="The address is incomplete. We're attempting to update this address.",
                location="Phoenix, AZ, US",
                raw_code="050",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 11, 1, 30, tzinfo=UTC),
                status=S.FAILED_ATTEMPT,
                description=(
                    "The receiver was not available for delivery. "
                    "We'll make a second attempt the next business day."
                ),
                location="Phoenix, AZ, US",
                raw_code="022",
            ),
        ),
    )


def test_access_point_is_available_for_pickup() -> None:
    result = parse_one("access_point.json", "1Z7A44W10312345671")

    assert result == TrackingResult(
        carrier="ups",
        tracking_number="1Z7A44W10312345671",
        status=S.AVAILABLE_FOR_PICKUP,
        sub_status="Delivered to UPS Access Point",
        raw_status_code="161",
        raw_status_text="Delivered to UPS Access Point. Awaiting customer pickup.",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 14, 10, 15, tzinfo=UTC),
                status=S.AVAILABLE_FOR_PICKUP,
                description="Delivered to UPS Access Point. Awaiting customer pickup.",
                location="Amsterdam, NL",
                raw_code="161",
            ),
        ),
    )


def test_unknown_codes_fall_back_to_the_type_and_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        result = parse_one("unknown_codes.json", "1Z0X118A0324011023")

    assert result == TrackingResult(
        carrier="ups",
        tracking_number="1Z0X118A0324011023",
        status=S.IN_TRANSIT,  # unknown 990, type I
        sub_status="On the Way",
        raw_status_code="990",
        raw_status_text="A brand new kind of scan",
        estimated_delivery=None,  # "2025-03-20" is not YYYYMMDD
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 18, 12, 0, tzinfo=UTC),
                status=S.IN_TRANSIT,
                description="A brand new kind of scan",
                location="Louisville, KY, US",
                raw_code="990",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 17, 9, 0, tzinfo=UTC),
                status=S.PENDING,  # unknown code, unknown type
                description="A scan of an unknown type",
                location="Louisville, KY, US",
                raw_code="991",
            ),
            TrackingEventData(
                occurred_at=dt.datetime(2025, 3, 16, 12, 0, tzinfo=UTC),  # local at -04:00
                status=S.IN_TRANSIT,  # unknown code, type P
                description="Pickup of a new kind",
                location="Newark, NJ, US",
                raw_code="992",
            ),
        ),
    )
    logged = warnings_of(caplog)
    for expected in (
        "unknown statusCode '990' (type 'I')",
        "unknown statusCode '991' (type 'Q')",
        "unknown activity type 'Q'",
        "unknown statusCode '992' (type 'P')",
        "unreadable gmtDate '2025031'",
        "unreadable activity time (date '2025-03-15'",
        "unreadable delivery date '2025-03-20'",
    ):
        assert any(expected in message for message in logged), expected


def test_tw0001_warning_without_package_is_not_found() -> None:
    outcome = ups.parse_track_response(load("not_found.json"), requested=["1Z9999999999999999"])
    assert outcome.results == {}
    error = outcome.errors["1Z9999999999999999"]
    assert isinstance(error, TrackingNumberNotFound)
    assert "TW0001" in error.message


def test_tv1002_is_rejected() -> None:
    error = ups.error_for_response(400, load("invalid_number.json"), tracking_number="1Z1")
    assert isinstance(error, CarrierRejected)
    assert "TV1002 Invalid inquiry number" in error.message
    assert isinstance(
        ups.error_for_response(404, None, tracking_number="1Z1"), TrackingNumberNotFound
    )
    # The same error body inside a 200 (no trackResponse).
    outcome = ups.parse_track_response(load("invalid_number.json"), requested=["1Z1"])
    assert isinstance(outcome.errors["1Z1"], CarrierRejected)


def test_packages_are_matched_by_tracking_number_then_inquiry_number() -> None:
    payload = load("delivered.json")
    shipment = payload["trackResponse"]["shipment"][0]
    second = copy.deepcopy(shipment["package"][0])
    second["trackingNumber"] = "1Z999AA10123456791"
    second["currentStatus"] = {"type": "I", "statusCode": "005", "description": "On the Way"}
    shipment["package"].append(second)

    outcome = ups.parse_track_response(
        payload, requested=["1Z999AA10123456791", "1Z999AA10123456784", "1Z0000000000000000"]
    )

    assert outcome.results["1Z999AA10123456791"].status == S.IN_TRANSIT
    assert outcome.results["1Z999AA10123456784"].status == S.DELIVERED
    assert isinstance(outcome.errors["1Z0000000000000000"], TrackingNumberNotFound)
    # Asked by a shipment-level inquiry number: its first package answers.
    shipment["inquiryNumber"] = "1ZSHIPMENT0000001"
    by_inquiry = ups.parse_track_response(payload, requested=["1ZSHIPMENT0000001", "1Z0"])
    assert by_inquiry.results["1ZSHIPMENT0000001"].status == S.DELIVERED


def test_unreadable_bodies_are_unavailable() -> None:
    with pytest.raises(CarrierUnavailable):
        ups.parse_track_response("nope", requested=["1Z1"])
    with pytest.raises(CarrierUnavailable):
        ups.parse_track_response({"something": "else"}, requested=["1Z1"])


@pytest.mark.parametrize(("code", "expected"), sorted(ups.STATUS_CODES.items()))
def test_status_table(code: str, expected: S, caplog: pytest.LogCaptureFixture) -> None:
    activity = {
        "date": "20250301",
        "time": "100000",
        "status": {"type": "I", "statusCode": code, "description": "x"},
    }
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        event = ups.parse_activity(activity)
    assert event is not None
    assert event.status == expected
    assert warnings_of(caplog) == []


@pytest.mark.parametrize(("kind", "expected"), sorted(ups.ACTIVITY_TYPES.items()))
def test_activity_type_table(kind: str, expected: S, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        assert ups.map_status({"type": kind}) == expected
    assert warnings_of(caplog) == []


def test_status_table_shape() -> None:
    assert all(len(code) == 3 and code.isdigit() for code in ups.STATUS_CODES)
    # Every code of the appendix: 0, 3, 5-7, 10-14, 16-30, 32-149, 153-169.
    appendix = {0, 3, 5, 6, 7, 10, 11, 12, 13, 14, *range(16, 31), *range(32, 150)}
    appendix |= set(range(153, 170))
    assert set(ups.STATUS_CODES) == {f"{code:03d}" for code in appendix}
    assert ups.map_status({"statusCode": "5", "type": "X"}) == S.IN_TRANSIT  # zero-filled
    assert ups.map_status({"type": "p"}) == S.IN_TRANSIT


def test_free_text_is_never_read(caplog: pytest.LogCaptureFixture) -> None:
    status = {"type": "Z", "statusCode": "999", "description": "Delivered", "code": "KB"}
    with caplog.at_level(logging.WARNING, logger=ups.__name__):
        assert ups.map_status(status) == S.PENDING
    assert len(warnings_of(caplog)) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-05:00", dt.timedelta(hours=-5)),
        ("-5:00", dt.timedelta(hours=-5)),
        ("+0530", dt.timedelta(hours=5, minutes=30)),
        ("+00:00", dt.timedelta(0)),
        ("9", dt.timedelta(hours=9)),
        ("", None),
        ("GMT", None),
        ("+25:00", None),
    ],
)
def test_parse_offset(value: str, expected: dt.timedelta | None) -> None:
    offset = ups.parse_offset(value)
    assert (offset.utcoffset(None) if offset else None) == expected


# --- Over HTTP ------------------------------------------------------------------------------------

NUMBER = "1Z4E12340312345675"
TRACK = rf"^/api/track/v1/details/{NUMBER}$"
TOKEN = support.TOKEN_PATHS["ups"]


@pytest.fixture
def api(carrier_api):
    return carrier_api("ups", {"client_id": "ups-client-id", "client_secret": "ups-secret"})


def add_token(api) -> None:
    support.add_token(api, "ups", "ups-token-1")


def test_request_shape(api) -> None:
    add_token(api)
    api.add("GET", TRACK, json=load("out_for_delivery.json"))

    outcome = ups.UPSAdapter().track([NUMBER])

    assert outcome.results[NUMBER].status == S.OUT_FOR_DELIVERY
    [token_request] = api.requests_to(TOKEN)
    assert token_request.method == "POST"
    expected_basic = base64.b64encode(b"ups-client-id:ups-secret").decode()
    assert token_request.headers["authorization"] == f"Basic {expected_basic}"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body.decode()) == {"grant_type": ["client_credentials"]}

    [track_request] = api.requests_to(TRACK)
    assert track_request.method == "GET"
    assert track_request.headers["authorization"] == "Bearer ups-token-1"
    assert len(track_request.headers["transid"]) == 32
    assert track_request.headers["transactionsrc"] == "resync"
    assert track_request.query == {
        "locale": ["en_US"],
        "returnSignature": ["false"],
        "returnMilestones": ["false"],
        "returnPOD": ["false"],
    }


def test_token_is_fetched_once_and_cached_in_redis(api) -> None:
    add_token(api)
    api.add("GET", r"^/api/track/v1/details/", json=load("out_for_delivery.json"))
    adapter = ups.UPSAdapter()

    for _ in range(3):
        outcome = adapter.track([NUMBER, "1Z4E12340312345682", "1Z4E12340312345699"])
        assert len(outcome.results) == 3

    assert len(api.requests_to(TOKEN)) == 1
    track_requests = api.requests_to(r"^/api/track/v1/details/")
    assert len(track_requests) == 9
    assert len({r.headers["transid"] for r in track_requests}) == 9  # unique per request
    [key] = get_redis().keys("resync:carrier:ups:token:*")
    assert get_redis().get(key) == "ups-token-1"
    assert 14000 < get_redis().ttl(key) <= 14399 - 60


def test_per_number_outcomes(api) -> None:
    add_token(api)
    api.add("GET", TRACK, json=load("out_for_delivery.json"))
    api.add("GET", r"/1Z9999999999999999$", json=load("not_found.json"))
    api.add("GET", r"/1ZBAD$", json=load("invalid_number.json"), status=400)
    api.add("GET", r"/1Z5F32190398765432$", json={"response": {"errors": []}}, status=503)

    outcome = ups.UPSAdapter().track([NUMBER, "1Z9999999999999999", "1ZBAD", "1Z5F32190398765432"])

    assert set(outcome.results) == {NUMBER}
    assert isinstance(outcome.errors["1Z9999999999999999"], TrackingNumberNotFound)
    assert isinstance(outcome.errors["1ZBAD"], CarrierRejected)
    assert "TV1002" in outcome.errors["1ZBAD"].message
    assert isinstance(outcome.errors["1Z5F32190398765432"], CarrierUnavailable)
