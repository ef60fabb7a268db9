"""17TRACK v2.2: the pure parser on canned payloads, then the adapter over real HTTP."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from shipments.carriers import seventeentrack as st
from shipments.carriers.base import (
    AccountLimitReached,
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

load = support.payload_loader("17track")


def accepted(name: str) -> dict[str, Any]:
    return load(name)["data"]["accepted"][0]


# --- Parse half ----------------------------------------------------------------------------------


def test_in_transit_merges_providers_and_parses_to_the_exact_result(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.seventeentrack")

    outcome = st.parse_track_response(
        load("gettrackinfo_in_transit.json"), requested=["LZ482913375CN"]
    )

    assert outcome.errors == {}
    assert outcome.results["LZ482913375CN"] == TrackingResult(
        carrier="17track",
        tracking_number="LZ482913375CN",
        status=S.IN_TRANSIT,
        sub_status="InTransit_CustomsReleased",
        raw_status_code="InTransit",
        raw_status_text="Released by customs, handed to domestic carrier",
        estimated_delivery=at("2025-08-15T20:00:00-06:00"),
        origin="GUANGZHOU, CN",
        destination="DENVER, CO 80202, US",
        events=(
            # Reported by both providers: kept once.
            TrackingEventData(
                occurred_at=at("2025-08-11T16:40:00+00:00"),
                status=S.IN_TRANSIT,
                description="Released by customs, handed to domestic carrier",
                location="LOS ANGELES, CA",
                raw_code="InTransit_CustomsReleased",
            ),
            # No time_utc: time_iso; no location: the address.
            TrackingEventData(
                occurred_at=at("2025-08-10T22:05:00-07:00"),
                status=S.IN_TRANSIT,
                description="Arrived at international service center",
                location="LOS ANGELES, CA, US",
                raw_code="InTransit_Arrival",
            ),
            TrackingEventData(
                occurred_at=at("2025-08-03T17:20:00+00:00"),
                status=S.IN_TRANSIT,
                description="Departed from the international exchange office",
                location="GUANGZHOU",
                raw_code="InTransit_Departure",
            ),
            # Only time_raw (with its zone) and no sub_status: the stage decides.
            TrackingEventData(
                occurred_at=at("2025-08-03T18:30:00+08:00"),
                status=S.IN_TRANSIT,
                description="Posted",
                location="GUANGZHOU",
                raw_code="PickedUp",
            ),
        ),
        # The carrier the number is registered with (`carrier`: 3011), not the last mile.
        actual_carrier_code="3011",
        actual_carrier_name="China Post",
        actual_carrier_url="",
    )
    first = outcome.results["LZ482913375CN"].events[0]
    assert first.occurred_at.utcoffset() == dt.timedelta(hours=-7)  # time_iso's offset, for show
    # The event with no usable time is skipped and logged.
    messages = [r.getMessage() for r in caplog.records]
    assert any("'sometime'" in m for m in messages)
    assert any("skipping an event" in m for m in messages)


def test_delivered():
    result = st.parse_track_info(accepted("gettrackinfo_delivered.json"))

    assert result == TrackingResult(
        carrier="17track",
        tracking_number="RB701234565SG",
        status=S.DELIVERED,
        sub_status="Delivered_Other",
        raw_status_code="Delivered",
        raw_status_text="Delivered to recipient",
        estimated_delivery=None,
        origin="SG",
        destination="LEIPZIG, 04109, DE",
        events=(
            TrackingEventData(
                occurred_at=at("2025-09-19T11:02:00+00:00"),
                status=S.DELIVERED,
                description="Zugestellt",
                location="LEIPZIG",
                raw_code="Delivered_Other",
            ),
            TrackingEventData(  # empty description: the translation stands in
                occurred_at=at("2025-09-19T05:45:00+00:00"),
                status=S.OUT_FOR_DELIVERY,
                description="Out for delivery",
                location="LEIPZIG, SN 04109, DE",
                raw_code="OutForDelivery_Other",
            ),
        ),
        actual_carrier_code="190096",
        actual_carrier_name="Singapore Post",
        actual_carrier_url="https://www.singpost.com/track-items?trackingid=RB701234565SG",
    )


def test_returning_to_sender_is_an_exception():
    result = st.parse_track_info(accepted("gettrackinfo_exception.json"))

    assert (result.status, result.sub_status, result.raw_status_code) == (
        S.EXCEPTION,
        "Exception_Returning",
        "Exception",
    )
    assert result.raw_status_text == "Item is being returned to sender: addressee unknown"
    assert [(e.raw_code, e.status) for e in result.events] == [
        ("Exception_Returning", S.EXCEPTION),
        ("DeliveryFailure_InvalidAddress", S.FAILED_ATTEMPT),
    ]


def test_unknown_sub_status_maps_to_its_main_status_and_is_logged(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.seventeentrack")

    result = st.parse_track_info(accepted("gettrackinfo_unknown_sub_status.json"))

    assert result.status == S.EXCEPTION
    assert result.sub_status == "Exception_Held"
    assert result.raw_status_text == "Held by customs"
    # An event's unknown sub_status: the main status in its name, else the stage.
    assert [(e.raw_code, e.status) for e in result.events] == [
        ("Exception_Held", S.EXCEPTION),
        ("Transit_Hub", S.IN_TRANSIT),
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any("unknown sub_status 'Exception_Held'" in m for m in messages)
    assert any("'Transit_Hub'" in m and "stage 'Arrival'" in m for m in messages)


def test_unknown_main_status_is_pending_and_logged(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.seventeentrack")
    assert st.map_status("Teleported") == S.PENDING
    assert "unknown status 'Teleported'" in caplog.records[0].getMessage()


def test_unknown_sub_status_without_a_main_status_uses_the_name(caplog):
    assert st.map_status("", "Delivered_Locker") == S.DELIVERED
    assert len(caplog.records) == 1


def test_just_registered_number_is_pending_without_events():
    result = st.parse_track_info(accepted("gettrackinfo_just_registered.json"))
    assert result.status == S.PENDING
    assert result.sub_status == "NotFound_Other"
    assert result.events == ()
    assert result.origin == "CN"
    assert result.destination == ""


def test_rejected_numbers_become_errors(caplog):
    caplog.set_level(logging.WARNING, logger="shipments.carriers.seventeentrack")
    numbers = ["LZ000000001CN", "ZZ12", "A", "LZ000000002CN", "LZ000000009CN"]

    outcome = st.parse_track_response(load("gettrackinfo_rejected.json"), requested=numbers)

    assert outcome.results == {}
    kinds = {number: type(error) for number, error in outcome.errors.items()}
    assert kinds == {
        "LZ000000001CN": TrackingNumberNotFound,  # not registered
        "ZZ12": TrackingNumberNotFound,  # no carrier detected
        "A": CarrierRejected,  # bad format
        "LZ000000002CN": CarrierRejected,  # unknown code, logged
        "LZ000000009CN": CarrierUnavailable,  # absent from the answer
    }
    assert "-18099999" in caplog.records[0].getMessage()
    assert st.unregistered_numbers(load("gettrackinfo_rejected.json"), requested=numbers) == [
        "LZ000000001CN"
    ]


def test_register_answer():
    registered, errors = st.parse_register_response(
        load("register.json"), requested=["LZ000000001CN", "LZ000000003CN", "ZZ12"]
    )
    assert registered == ["LZ000000001CN", "LZ000000003CN"]  # accepted, already registered
    assert set(errors) == {"ZZ12"}
    assert isinstance(errors["ZZ12"], TrackingNumberNotFound)


def test_numbers_are_matched_ignoring_case_and_spaces():
    outcome = st.parse_track_response(
        load("gettrackinfo_delivered.json"), requested=["rb 701234565sg"]
    )
    assert outcome.results["rb 701234565sg"].tracking_number == "rb 701234565sg"


def test_envelope_error_code_is_raised():
    with pytest.raises(InvalidCredentials, match="Invalid security key"):
        st.parse_track_response(load("invalid_key.json"), requested=["X"])
    with pytest.raises(CarrierUnavailable):
        st.parse_track_response({"code": -18010003, "data": {}}, requested=["X"])
    with pytest.raises(CarrierUnavailable):
        st.parse_track_response([], requested=["X"])


@pytest.mark.parametrize(("status", "expected"), sorted(st.MAIN_STATUSES.items()))
def test_main_status_table(status, expected, caplog):
    assert st.map_status(status) == expected
    assert caplog.records == []


@pytest.mark.parametrize(("sub", "expected"), sorted(st.SUB_STATUSES.items()))
def test_sub_status_table(sub, expected, caplog):
    main = sub.split("_", 1)[0]
    assert st.map_status(main, sub) == expected
    # Every sub-status agrees with its main status.
    assert expected == st.MAIN_STATUSES[main]
    assert caplog.records == []


@pytest.mark.parametrize(("stage", "expected"), sorted(st.STAGES.items()))
def test_stage_table(stage, expected, caplog):
    event = {"time_utc": "2025-01-01T00:00:00Z", "stage": stage, "description": "x"}
    assert st.parse_event(event).status == expected
    assert caplog.records == []


def test_tables_cover_the_documented_values():
    assert len(st.MAIN_STATUSES) == 9
    assert set(st.MAIN_STATUSES.values()) == set(S)
    assert len(st.SUB_STATUSES) == 30


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (-18010001, InvalidCredentials),
        (-18010002, InvalidCredentials),
        (-18010003, CarrierUnavailable),
        (-18010004, InvalidCredentials),
        (-18010005, InvalidCredentials),
        (-18010014, CarrierRejected),
        (-18019902, TrackingNumberNotFound),
        (-18019903, TrackingNumberNotFound),
        ("-18019902", TrackingNumberNotFound),
        (None, CarrierRejected),
    ],
)
def test_error_codes(code, kind):
    assert type(st.error_for(code, "msg")) is kind


# --- Network half --------------------------------------------------------------------------------

INFO = r"^/track/v2\.2/gettrackinfo$"
REGISTER = r"^/track/v2\.2/register$"


@pytest.fixture
def api(carrier_api):
    return carrier_api("17track", {"api_key": "k-17"})


def in_transit_item(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "carrier": 3011,
        "track_info": {"latest_status": {"status": "InTransit", "sub_status": "InTransit_Other"}},
    }


def envelope(accepted: list[Any] = (), rejected: list[Any] = ()) -> dict[str, Any]:
    return {"code": 0, "data": {"accepted": list(accepted), "rejected": list(rejected)}}


def test_request_shape(api):
    api.add("POST", INFO, json=load("gettrackinfo_delivered.json"))

    outcome = st.SeventeenTrackAdapter().track(["RB701234565SG"])

    assert outcome.results["RB701234565SG"].status == S.DELIVERED
    (request,) = api.requests
    assert request.method == "POST"
    assert request.path == "/track/v2.2/gettrackinfo"
    assert request.headers["17token"] == "k-17"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == [{"number": "RB701234565SG"}]


def test_85_numbers_go_in_batches_of_40_40_5(api):
    numbers = [f"LZ{i:09d}CN" for i in range(85)]
    for start in (0, 40, 80):
        batch = numbers[start : start + 40]
        api.add("POST", INFO, json=envelope([in_transit_item(n) for n in batch]), times=1)

    outcome = st.SeventeenTrackAdapter().track(numbers)

    assert set(outcome.results) == set(numbers)
    assert outcome.errors == {}
    bodies = [r.json() for r in api.requests_to(INFO)]
    assert [len(b) for b in bodies] == [40, 40, 5]
    assert [item["number"] for body in bodies for item in body] == numbers
    assert api.requests_to(REGISTER) == []


def test_unregistered_numbers_are_registered_then_fetched_in_the_same_call(api):
    rejected = load("gettrackinfo_rejected.json")["data"]["rejected"]
    first = envelope(
        [accepted("gettrackinfo_in_transit.json")],
        [
            rejected[0],  # LZ000000001CN: not registered
            {"number": "LZ000000003CN", "error": {"code": -18019902, "message": "register"}},
            {"number": "ZZ12", "error": {"code": -18019902, "message": "register"}},
        ],
    )
    api.add("POST", INFO, json=first, times=1)
    api.add("POST", REGISTER, json=load("register.json"))
    just_registered = accepted("gettrackinfo_just_registered.json")
    api.add(
        "POST",
        INFO,
        json=envelope([just_registered, {**just_registered, "number": "LZ000000003CN"}]),
    )

    outcome = st.SeventeenTrackAdapter().track(
        ["LZ482913375CN", "LZ000000001CN", "LZ000000003CN", "ZZ12"]
    )

    assert outcome.results["LZ482913375CN"].status == S.IN_TRANSIT
    assert outcome.results["LZ000000001CN"].status == S.PENDING
    assert outcome.results["LZ000000003CN"].status == S.PENDING  # was already registered
    assert set(outcome.errors) == {"ZZ12"}
    assert isinstance(outcome.errors["ZZ12"], TrackingNumberNotFound)
    assert [(r.path.rsplit("/", 1)[1], r.json()) for r in api.requests] == [
        (
            "gettrackinfo",
            [
                {"number": "LZ482913375CN"},
                {"number": "LZ000000001CN"},
                {"number": "LZ000000003CN"},
                {"number": "ZZ12"},
            ],
        ),
        (
            "register",
            [{"number": "LZ000000001CN"}, {"number": "LZ000000003CN"}, {"number": "ZZ12"}],
        ),
        ("gettrackinfo", [{"number": "LZ000000001CN"}, {"number": "LZ000000003CN"}]),
    ]
    assert all(r.headers["17token"] == "k-17" for r in api.requests)


def test_unknown_numbers_are_not_found_in_errors(api):
    api.add(
        "POST",
        INFO,
        json=envelope(
            rejected=[{"number": "ZZ12", "error": {"code": -18019903, "message": "no carrier"}}]
        ),
    )

    outcome = st.SeventeenTrackAdapter().track(["ZZ12"])

    assert isinstance(outcome.errors["ZZ12"], TrackingNumberNotFound)
    assert api.requests_to(REGISTER) == []


def test_bad_key_in_the_envelope_is_invalid_credentials(api):
    api.add("POST", INFO, json=load("invalid_key.json"))
    with pytest.raises(InvalidCredentials):
        st.SeventeenTrackAdapter().track(["RB701234565SG"])


def test_rate_limited_midway_keeps_earlier_batches_and_sends_no_more(api):
    numbers = [f"LZ{i:09d}CN" for i in range(85)]
    api.add("POST", INFO, json=envelope([in_transit_item(n) for n in numbers[:40]]), times=1)
    api.add("POST", INFO, status=429, body="", headers={"Retry-After": "3"})

    outcome = st.SeventeenTrackAdapter().track(numbers)

    assert set(outcome.results) == set(numbers[:40])
    assert set(outcome.errors) == set(numbers[40:])
    assert all(isinstance(e, RateLimited) for e in outcome.errors.values())
    assert len(api.requests_to(INFO)) == 2


# --- Account limits ------------------------------------------------------------------------------
# 17TRACK's error-code list: -18019907 "exceeded the daily limit", -18019908 "the quota has
# been used up". They come in the envelope (`{"code": …, "data": {"errors": [{code, message}]}}`,
# the shape of every envelope error) or per number in `rejected[]` (as `register` refuses
# numbers); the payloads daily_limit.json and register_quota_used_up.json are in those shapes.

NOW = dt.datetime(2025, 3, 4, 21, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("code", "retry_after"),
    [
        (-18019907, 2.5 * 3600 + 60),  # until the next 00:00 UTC, plus a minute
        ("-18019907", 2.5 * 3600 + 60),
        (-18019908, 3600.0),  # a used-up quota: look again in an hour
    ],
)
def test_account_limits_pause_the_whole_carrier(code, retry_after):
    error = st.error_for(code, "limit", now=NOW)
    assert isinstance(error, AccountLimitReached)
    assert isinstance(error, RateLimited)
    assert error.transient
    assert error.retry_after == retry_after
    assert error.carrier == "17track"


def test_daily_limit_in_the_envelope_is_raised():
    with pytest.raises(AccountLimitReached, match="daily limit"):
        st.parse_track_response(load("daily_limit.json"), requested=["X"])


@pytest.fixture
def pauses(monkeypatch):
    calls: list[tuple[str, float | None]] = []
    monkeypatch.setattr(st.ratelimit, "pause", lambda carrier, s: calls.append((carrier, s)))
    return calls


def test_daily_limit_pauses_17track_and_reschedules_every_number(api, pauses):
    numbers = [f"LZ{i:09d}CN" for i in range(85)]
    api.add("POST", INFO, json=load("daily_limit.json"))

    # Every number failed alike: the call raises it, as for a 429 (`http.collect_outcomes`).
    with pytest.raises(AccountLimitReached) as raised:
        st.SeventeenTrackAdapter().track(numbers)

    assert raised.value.transient
    assert len(api.requests_to(INFO)) == 1  # the next batches are not sent
    assert len(pauses) == 1
    carrier, seconds = pauses[0]
    assert carrier == "17track"
    assert 60 < seconds <= 24 * 3600 + 60


def test_quota_used_up_at_register_keeps_results_and_pauses(api, pauses):
    first = envelope(
        [accepted("gettrackinfo_in_transit.json")],
        [
            {"number": "LZ000000001CN", "error": {"code": -18019902, "message": "register"}},
            {"number": "LZ000000003CN", "error": {"code": -18019902, "message": "register"}},
        ],
    )
    api.add("POST", INFO, json=first, times=1)
    api.add("POST", REGISTER, json=load("register_quota_used_up.json"))

    outcome = st.SeventeenTrackAdapter().track(["LZ482913375CN", "LZ000000001CN", "LZ000000003CN"])

    assert set(outcome.results) == {"LZ482913375CN"}
    assert set(outcome.errors) == {"LZ000000001CN", "LZ000000003CN"}
    assert all(isinstance(e, AccountLimitReached) for e in outcome.errors.values())
    assert all(e.transient for e in outcome.errors.values())  # rescheduled, not failed
    assert pauses == [("17track", 3600.0)]
