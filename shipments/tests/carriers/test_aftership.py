"""AfterShip: the pure parser on canned payloads (2025-01 and 2024-04), then the adapter over HTTP."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import pytest

from shipments.carriers import aftership as af
from shipments.carriers.base import (
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    RateLimited,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S

from . import support
from .support import at

load = support.payload_loader("aftership")


# --- Parse half ----------------------------------------------------------------------------------


def test_2025_01_tracking_parses_to_the_exact_result(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.aftership")

    result = af.parse_response(load("tracking_2025-01.json"), tracking_number="RR384761925SG")

    assert result == TrackingResult(
        carrier="aftership",
        tracking_number="RR384761925SG",
        status=S.OUT_FOR_DELIVERY,
        sub_status="OutForDelivery_001",
        raw_status_code="OutForDelivery",
        raw_status_text="Out for Delivery",
        estimated_delivery=at("2025-06-19T18:00:00+10:00"),
        origin="SINGAPORE, SGP",
        destination="MELBOURNE, VIC 3000, AUS",
        events=(
            TrackingEventData(
                occurred_at=at("2025-06-19T07:48:00+10:00"),
                status=S.OUT_FOR_DELIVERY,
                description="Onboard for delivery",
                location="MELBOURNE VIC 3000",
                raw_code="OutForDelivery_001",
            ),
            TrackingEventData(  # naive checkpoint_time: read as UTC; no location: city etc.
                occurred_at=at("2025-06-17T09:15:00+00:00"),
                status=S.IN_TRANSIT,
                description="Arrived at destination sorting centre",
                location="SYDNEY, NSW, Australia",
                raw_code="InTransit_003",
            ),
            TrackingEventData(
                occurred_at=at("2025-06-16T14:30:00+08:00"),
                status=S.IN_TRANSIT,
                description="Item received for processing",
                location="SINGAPORE",
                raw_code="InTransit_002",
            ),
        ),
        actual_carrier_code="singapore-post",
        actual_carrier_name="Singapore Post",
        actual_carrier_url="https://www.singpost.com/track-items?trackingid=RR384761925SG",
    )
    assert result.events[1].occurred_at.tzinfo is dt.UTC
    # The checkpoint with a garbled time is skipped, and said so.
    messages = [r.getMessage() for r in caplog.records]
    assert any("18/06/2025 10:00" in m for m in messages)
    assert any("skipping a checkpoint" in m for m in messages)


def test_2024_04_envelope_and_field_names():
    result = af.parse_response(
        load("tracking_2024-04.json"), tracking_number="JD014600006281230704"
    )

    assert result == TrackingResult(
        carrier="aftership",
        tracking_number="JD014600006281230704",
        status=S.EXCEPTION,
        sub_status="Exception_012",
        raw_status_code="Exception",
        raw_status_text="Damaged",
        estimated_delivery=at("2025-02-15T00:00:00+00:00"),  # expected_delivery, a date
        origin="BONN, DEU",
        destination="LYON, 69002, FRA",
        events=(
            TrackingEventData(
                occurred_at=at("2025-02-14T10:05:00+01:00"),
                status=S.EXCEPTION,
                description="The shipment was damaged and is being repackaged",
                location="LYON, 69002, France",
                raw_code="Exception_012",
            ),
            TrackingEventData(
                occurred_at=at("2025-02-11T02:44:00+01:00"),
                status=S.IN_TRANSIT,
                description="The shipment has been processed in the parcel center",
                location="KOELN, Germany",
                raw_code="InTransit_001",
            ),
        ),
        actual_carrier_code="dhl",
        actual_carrier_name="DHL",
        actual_carrier_url=(
            "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html"
            "?submit=1&tracking-id=JD014600006281230704"
        ),
    )


def test_list_answer_picks_the_tracking_with_that_number():
    result = af.parse_response(load("list_2025-01.json"), tracking_number="1za81f270398765432")

    assert result.tracking_number == "1za81f270398765432"
    assert (result.status, result.sub_status, result.raw_status_text) == (
        S.DELIVERED,
        "Delivered_001",
        "Delivered",
    )
    assert result.estimated_delivery == at("2025-07-04T00:00:00+00:00")
    assert (result.origin, result.destination) == ("LOUISVILLE, KY, USA", "HOUSTON, TX 77002, USA")
    assert [(e.occurred_at, e.status, e.location) for e in result.events] == [
        (at("2025-07-04T11:32:00-05:00"), S.DELIVERED, "Houston, TX, US"),
        (at("2025-07-02T21:10:00-04:00"), S.IN_TRANSIT, "Louisville, KY, US"),
    ]


def test_created_tracking_is_pending_without_events():
    result = af.parse_response(load("create_2025-01.json"), tracking_number="RR384761925SG")
    assert result == TrackingResult(
        carrier="aftership",
        tracking_number="RR384761925SG",
        status=S.PENDING,
        sub_status="Pending_001",
        raw_status_code="Pending",
        raw_status_text="Pending",
        actual_carrier_code="singapore-post",
        actual_carrier_name="Singapore Post",
        actual_carrier_url="https://www.singpost.com/track-items?trackingid=RR384761925SG",
    )


def test_unknown_subtag_maps_to_its_tag_and_is_logged(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.aftership")

    result = af.parse_response(load("unknown_subtag.json"), tracking_number="CP907711223DE")

    assert result.status == S.FAILED_ATTEMPT
    assert result.sub_status == "AttemptFail_009"
    assert [(e.raw_code, e.status) for e in result.events] == [
        ("AttemptFail_009", S.FAILED_ATTEMPT),
        ("Teleported_001", S.PENDING),  # unknown subtag of an unknown tag: pending
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any("unknown subtag 'AttemptFail_009', using tag 'AttemptFail'" in m for m in messages)
    assert any("unknown tag 'Teleported'" in m for m in messages)


def test_unknown_subtag_without_a_tag_uses_the_name(caplog):
    assert af.map_status("", "Delivered_009") == S.DELIVERED
    assert len(caplog.records) == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("not_found_4004.json", TrackingNumberNotFound),
        ("bad_courier_4012.json", TrackingNumberNotFound),
        ("already_exists_4003.json", CarrierRejected),
        ("invalid_key_401.json", InvalidCredentials),
        ("rate_limited_429.json", RateLimited),
    ],
)
def test_error_answers_raise(name, kind):
    status = load(name)["meta"]["code"]
    with pytest.raises(kind):
        af.parse_response(load(name), tracking_number="X", http_status=min(status, 499))


def test_a_list_without_the_number_is_not_found():
    with pytest.raises(TrackingNumberNotFound):
        af.parse_response(load("list_empty.json"), tracking_number="RR384761925SG")


def test_meta_errors_fall_back_to_the_http_status(caplog):
    assert isinstance(af.meta_error(None, 404), CarrierRejected)
    assert isinstance(af.meta_error(None, 502), CarrierUnavailable)
    assert af.meta_error({"meta": {"code": 200}}, 200) is None
    error = af.meta_error({"meta": {"code": 4999, "message": "new"}}, 400)
    assert isinstance(error, CarrierRejected)
    assert "4999" in caplog.records[0].getMessage()


@pytest.mark.parametrize(("tag", "expected"), sorted(af.TAGS.items()))
def test_tag_table(tag, expected, caplog):
    assert af.map_status(tag) == expected
    assert caplog.records == []


@pytest.mark.parametrize(("subtag", "expected"), sorted(af.SUBTAGS.items()))
def test_subtag_table(subtag, expected, caplog):
    tag = subtag.split("_", 1)[0]
    assert af.map_status(tag, subtag) == expected
    assert expected == af.TAGS[tag]
    assert caplog.records == []


def test_tables_cover_the_documented_values():
    assert set(af.TAGS.values()) == set(S)
    assert "OutForDelivery_002" not in af.SUBTAGS  # not a documented subtag
    assert {"Exception_013", "Exception_016", "Exception_018", "Delivered_005"} <= set(af.SUBTAGS)
    assert len(af.SUBTAGS) == 45


def test_seconds_until_reset():
    assert af.seconds_until_reset("1000", now=995.0) == 5.0
    assert af.seconds_until_reset("1000000", now=999_999.5) == 1.0  # at least a second
    assert af.seconds_until_reset("1000000000000", now=999_999_990.0) == 10.0  # milliseconds
    assert af.seconds_until_reset("soon") is None
    assert af.seconds_until_reset(None) is None


# --- Network half --------------------------------------------------------------------------------

TRACKINGS = r"^/tracking/2025-01/trackings$"


@pytest.fixture
def api(carrier_api):
    return carrier_api("aftership", {"api_key": "as-k"})


def listing(*trackings: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": {"code": 200, "message": "OK", "type": "OK"},
        "data": {"pagination": {"total": len(trackings)}, "trackings": list(trackings)},
    }


def test_request_shape(api):
    api.add("GET", TRACKINGS, json=listing(load("tracking_2025-01.json")["data"]))

    outcome = af.AfterShipAdapter().track(["RR384761925SG"])

    assert outcome.results["RR384761925SG"].status == S.OUT_FOR_DELIVERY
    (request,) = api.requests
    assert request.method == "GET"
    assert request.path == "/tracking/2025-01/trackings"
    assert request.query == {"tracking_numbers": ["RR384761925SG"]}
    assert request.headers["as-api-key"] == "as-k"


def test_several_numbers_fan_out(api):
    api.add("GET", TRACKINGS, json=load("list_2025-01.json"))

    outcome = af.AfterShipAdapter().track(["1ZA81F270398765432", "RR384761925SGX"])

    assert outcome.results["1ZA81F270398765432"].status == S.DELIVERED
    assert outcome.results["RR384761925SGX"].status == S.PENDING
    assert len(api.requests) == 2


def test_unknown_tracking_is_created_then_read(api):
    api.add("GET", TRACKINGS, json=load("list_empty.json"))
    api.add("POST", TRACKINGS, status=201, json=load("create_2025-01.json"))

    outcome = af.AfterShipAdapter().track(["RR384761925SG"])

    assert outcome.results["RR384761925SG"].status == S.PENDING
    get, post = api.requests
    assert (get.method, post.method) == ("GET", "POST")
    assert post.path == "/tracking/2025-01/trackings"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["as-api-key"] == "as-k"
    assert post.json() == {"tracking_number": "RR384761925SG"}


def test_404_4004_on_the_lookup_also_leads_to_create(api):
    api.add("GET", TRACKINGS, status=404, json=load("not_found_4004.json"))
    api.add("POST", TRACKINGS, status=201, json=load("create_2025-01.json"))

    outcome = af.AfterShipAdapter().track(["RR384761925SG"])

    assert outcome.results["RR384761925SG"].status == S.PENDING


def test_create_answer_in_the_2024_04_envelope(api):
    api.add("GET", TRACKINGS, json=load("list_empty.json"))
    api.add("POST", TRACKINGS, status=201, json=load("tracking_2024-04.json"))

    outcome = af.AfterShipAdapter().track(["JD014600006281230704"])

    assert outcome.results["JD014600006281230704"].status == S.EXCEPTION


def test_concurrent_create_4003_reads_it_again(api):
    api.add("GET", TRACKINGS, json=load("list_empty.json"), times=1)
    api.add("POST", TRACKINGS, status=400, json=load("already_exists_4003.json"))
    api.add("GET", TRACKINGS, json=listing(load("tracking_2025-01.json")["data"]))

    outcome = af.AfterShipAdapter().track(["RR384761925SG"])

    assert outcome.results["RR384761925SG"].status == S.OUT_FOR_DELIVERY
    assert [r.method for r in api.requests] == ["GET", "POST", "GET"]


def test_number_no_courier_knows_is_not_found_in_errors(api):
    api.add("GET", TRACKINGS, json=load("list_empty.json"))
    api.add("POST", TRACKINGS, status=400, json=load("bad_courier_4012.json"))

    outcome = af.AfterShipAdapter().track(["ZZ0000"])

    assert outcome.results == {}
    assert isinstance(outcome.errors["ZZ0000"], TrackingNumberNotFound)


def test_invalid_number_is_rejected_in_errors(api):
    api.add("GET", TRACKINGS, json=load("list_empty.json"))
    api.add(
        "POST",
        TRACKINGS,
        status=400,
        json={"meta": {"code": 4005, "message": "The value of `tracking_number` is invalid."}},
    )

    outcome = af.AfterShipAdapter().track(["!"])

    assert isinstance(outcome.errors["!"], CarrierRejected)


def test_429_with_only_x_ratelimit_headers(api):
    api.add(
        "GET",
        TRACKINGS,
        status=429,
        json=load("rate_limited_429.json"),
        headers={
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + 9),
        },
    )
    with pytest.raises(RateLimited) as caught:
        af.AfterShipAdapter().track(["RR384761925SG"])
    assert caught.value.retry_after == pytest.approx(9, abs=1.5)


def test_exhausted_quota_holds_the_next_call_back_until_reset(api, settings):
    settings.CARRIER_RATE_LIMITS = {**settings.CARRIER_RATE_LIMITS, "aftership": 100}
    api.add(
        "GET",
        TRACKINGS,
        json=listing(load("tracking_2025-01.json")["data"]),
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 6)},
    )
    adapter = af.AfterShipAdapter()
    assert adapter.track(["RR384761925SG"]).results

    with pytest.raises(RateLimited) as caught:
        adapter.track(["RR384761925SG"])

    assert caught.value.retry_after == pytest.approx(6, abs=1.5)
    assert len(api.requests) == 1
