"""The carrier sandbox's native API: the pure parser, then the adapter over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from carrier_sandbox import native_adapter as sb
from shipments.carriers import http
from shipments.carriers.base import (
    CarrierRejected,
    CarrierUnavailable,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S
from shipments.tests.carriers.support import at


def item(number: str, status: str = "in_transit", **extra: Any) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "status": status,
        "sub_status": "",
        "status_code": "IT",
        "status_text": "In transit",
        "estimated_delivery": None,
        "origin": "",
        "destination": "",
        "events": [],
        **extra,
    }


PAYLOAD = {
    "results": [
        {
            "tracking_number": "SBX000000000001",
            "status": "out_for_delivery",
            "sub_status": "out_for_delivery_van",
            "status_code": "OFD",
            "status_text": "Out for delivery",
            "estimated_delivery": "2025-03-06T18:00:00+01:00",
            "origin": "Leeds, GB",
            "destination": "Bath, GB",
            "events": [
                {
                    "occurred_at": "2025-03-04T09:00:00+00:00",
                    "status": "info_received",
                    "description": "Label created",
                    "location": "Leeds, GB",
                    "code": "IR",
                },
                {
                    "occurred_at": "2025-03-06T07:30:00+00:00",
                    "status": "out_for_delivery",
                    "description": "Out for delivery",
                    "location": "Bath, GB",
                    "code": "OFD",
                },
                {
                    "occurred_at": "yesterday",
                    "status": "in_transit",
                    "description": "Garbled",
                    "location": "",
                    "code": "IT",
                },
            ],
        }
    ],
    "not_found": ["SBX000000000404"],
}


def test_parse_to_the_exact_result(caplog):
    caplog.set_level(logging.WARNING, logger="carrier_sandbox.native_adapter")

    outcome = sb.parse_track_response(
        PAYLOAD, requested=["SBX000000000001", "SBX000000000404", "SBX000000000999"]
    )

    assert outcome.results == {
        "SBX000000000001": TrackingResult(
            carrier="sandbox",
            tracking_number="SBX000000000001",
            status=S.OUT_FOR_DELIVERY,
            sub_status="out_for_delivery_van",
            raw_status_code="OFD",
            raw_status_text="Out for delivery",
            estimated_delivery=at("2025-03-06T18:00:00+01:00"),
            origin="Leeds, GB",
            destination="Bath, GB",
            events=(
                TrackingEventData(
                    occurred_at=at("2025-03-06T07:30:00+00:00"),
                    status=S.OUT_FOR_DELIVERY,
                    description="Out for delivery",
                    location="Bath, GB",
                    raw_code="OFD",
                ),
                TrackingEventData(
                    occurred_at=at("2025-03-04T09:00:00+00:00"),
                    status=S.INFO_RECEIVED,
                    description="Label created",
                    location="Leeds, GB",
                    raw_code="IR",
                ),
            ),
        )
    }
    assert isinstance(outcome.errors["SBX000000000404"], TrackingNumberNotFound)
    assert isinstance(outcome.errors["SBX000000000999"], CarrierUnavailable)  # not answered
    assert any("'yesterday'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", list(S))
def test_every_normalised_status_is_read_as_itself(status, caplog):
    assert sb.map_status(status.value) == status
    assert caplog.records == []


def test_unknown_status_is_pending_and_logged(caplog):
    assert sb.map_status("lost_in_space") == S.PENDING
    assert "lost_in_space" in caplog.records[0].getMessage()


def test_unreadable_payload_is_carrier_unavailable():
    with pytest.raises(CarrierUnavailable):
        sb.parse_track_response(["nope"], requested=["X"])


# --- Network half --------------------------------------------------------------------------------

TRACK = r"^/sandbox/v1/track$"


@pytest.fixture
def api(carrier_api):
    return carrier_api("sandbox")


def test_request_shape(api):
    api.add("GET", TRACK, json=PAYLOAD)

    outcome = sb.SandboxAdapter().track(["SBX000000000001", "SBX000000000404"])

    assert outcome.results["SBX000000000001"].status == S.OUT_FOR_DELIVERY
    assert isinstance(outcome.errors["SBX000000000404"], TrackingNumberNotFound)
    (request,) = api.requests
    assert request.method == "GET"
    assert request.path == "/sandbox/v1/track"
    assert request.query == {"numbers": ["SBX000000000001,SBX000000000404"]}


def test_default_base_is_the_local_sandbox(settings):
    settings.CARRIER_API_BASE_URLS = {**settings.CARRIER_API_BASE_URLS, "sandbox": ""}
    settings.CARRIER_SANDBOX_URL = ""
    assert http.base_url("sandbox", sb.DEFAULT_BASE) == "http://127.0.0.1:8100"


def test_120_numbers_go_in_batches_of_50(api):
    numbers = [f"SBX{i:012d}" for i in range(120)]
    for start in (0, 50, 100):
        batch = numbers[start : start + 50]
        api.add("GET", TRACK, json={"results": [item(n) for n in batch], "not_found": []}, times=1)

    outcome = sb.SandboxAdapter().track(numbers)

    assert set(outcome.results) == set(numbers)
    sizes = [len(r.query["numbers"][0].split(",")) for r in api.requests]
    assert sizes == [50, 50, 20]


def test_bad_request_is_rejected_per_number(api):
    api.add("GET", TRACK, status=400, json={"error": "too many numbers"})
    outcome = sb.SandboxAdapter().track(["SBX000000000001"])
    assert isinstance(outcome.errors["SBX000000000001"], CarrierRejected)


def test_a_failed_batch_does_not_lose_the_others(api):
    numbers = [f"SBX{i:012d}" for i in range(60)]
    api.add("GET", TRACK, json={"results": [item(n) for n in numbers[:50]]}, times=1)
    api.add("GET", TRACK, status=503, body="")

    outcome = sb.SandboxAdapter().track(numbers)

    assert set(outcome.results) == set(numbers[:50])
    assert all(isinstance(outcome.errors[n], CarrierUnavailable) for n in numbers[50:])
