"""The carrier sandbox: histories, every carrier's wire format, the control API, over real HTTP."""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import time
from collections import Counter

import pytest
import requests

from carrier_sandbox import history
from carrier_sandbox.formats.aftership import tracking_ids
from carrier_sandbox.management.commands.carrier_sandbox import parse_epoch, stored_epoch
from shipments.carriers.numbers import example_number
from shipments.tests.sandbox_fixtures import SandboxProcess

EPOCH = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
STATUSES = set(history.STATUSES)

DHL_NUMBER = example_number("dhl", 1)
UPS_NUMBER = example_number("ups", 1)
FEDEX_NUMBER = example_number("fedex", 1)
USPS_NUMBER = example_number("usps", 1)
S10_NUMBER = example_number("17track", 1)
AFTERSHIP_NUMBER = example_number("aftership", 1)
NATIVE_NUMBER = example_number("sandbox", 1)


def parse(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, value
    return moment


# --- History (no server) --------------------------------------------------------------------------


def test_same_number_same_plan_for_equal_epochs():
    first = history.plan_for(UPS_NUMBER, EPOCH)
    history._plan.cache_clear()
    same_moment = EPOCH.astimezone(dt.timezone(dt.timedelta(hours=5)))
    second = history.plan_for(UPS_NUMBER, same_moment)
    assert first == second
    assert history.plan_for(FEDEX_NUMBER, EPOCH) != first


def test_timeline_starts_within_fourteen_days_before_the_epoch_and_steps_are_hours_apart():
    for i in range(300):
        plan = history.plan_for(example_number("sandbox", i), EPOCH)
        assert EPOCH - dt.timedelta(days=14) <= plan.started_at <= EPOCH
        times = [e.utc for e in plan.events]
        assert times == sorted(times)
        assert all(b - a >= dt.timedelta(minutes=5) for a, b in zip(times, times[1:], strict=False))
        assert all(e.occurred_at.microsecond == 0 for e in plan.events)
        assert plan.events[0].status == "info_received"


def test_history_advances_with_time_and_never_serves_the_future():
    plan = history.plan_for(UPS_NUMBER, EPOCH)
    start, end = plan.events[0].utc, plan.events[-1].utc
    before = history.snapshot(UPS_NUMBER, epoch=EPOCH, now=start - dt.timedelta(seconds=1))
    assert before is not None
    assert before.events == ()
    assert before.status == "pending"
    seen: tuple[history.Event, ...] = ()
    moment = start
    while moment <= end + dt.timedelta(hours=1):
        snap = history.snapshot(UPS_NUMBER, epoch=EPOCH, now=moment)
        assert all(e.utc <= moment for e in snap.events)
        assert [e.utc for e in snap.events] == sorted((e.utc for e in snap.events), reverse=True)
        assert snap.events[len(snap.events) - len(seen) :] == seen  # the past never changes
        seen = snap.events
        moment += dt.timedelta(hours=3)
    seen = history.snapshot(UPS_NUMBER, epoch=EPOCH, now=end).events
    assert len(seen) == len(plan.events)
    assert seen[0].status in {"delivered", "exception", "available_for_pickup", "info_received"}


def test_at_any_moment_some_parcels_are_delivered_and_some_still_moving():
    statuses = Counter(
        history.snapshot(example_number("sandbox", i), epoch=EPOCH, now=EPOCH).status
        for i in range(1000)
    )
    assert statuses["delivered"] > 500
    assert statuses["in_transit"] + statuses["out_for_delivery"] + statuses["info_received"] > 100
    detour_kinds = {"attempt", "pickup_ready", "exception"}
    detours = sum(
        any(
            e.kind in detour_kinds
            for e in history.plan_for(example_number("sandbox", i), EPOCH).events
        )
        for i in range(1000)
    )
    assert 100 <= detours <= 220  # about 15% take a detour


def test_eta_is_given_while_moving_and_dropped_once_delivered():
    for i in range(200):
        number = example_number("ups", i)
        snap = history.snapshot(number, epoch=EPOCH, now=EPOCH + dt.timedelta(days=30))
        if snap.status == "delivered":
            assert snap.eta is None
            break
    for i in range(200):
        snap = history.snapshot(example_number("ups", i), epoch=EPOCH, now=EPOCH)
        if snap.status == "in_transit":
            assert snap.eta is not None
            assert snap.eta.utcoffset() is not None
            break


def test_unknown_prefixes_are_unknown_until_an_event_is_added():
    for number in ("NOTFOUND42", "00000000123", "notfound-7"):
        assert history.is_unknown_number(number)
        assert history.snapshot(number, epoch=EPOCH, now=EPOCH) is None
    added = history.make_added_event(
        status="delivered", place=history.Place("Berlin", "DE", tz="Europe/Berlin"), now=EPOCH
    )
    snap = history.snapshot("NOTFOUND42", epoch=EPOCH, now=EPOCH, added=(added,))
    assert snap is not None
    assert snap.status == "delivered"
    assert len(snap.events) == 1


def test_places_carry_offsets_of_their_own_zone():
    plan = history.plan_for(UPS_NUMBER, EPOCH)
    for event in plan.events:
        assert event.place.country == "US"
        assert (
            event.occurred_at.utcoffset()
            == event.occurred_at.astimezone(event.place.zone).utcoffset()
        )
        assert dt.timedelta(hours=-10) <= event.occurred_at.utcoffset() <= dt.timedelta(hours=-4)


def test_epoch_file_is_written_once_and_reused(tmp_path):
    path = tmp_path / "var" / "sandbox-epoch"
    first = stored_epoch(path)
    assert path.exists()
    assert first.minute == first.second == 0
    path.write_text("2026-01-02T03:00:00+00:00\n")
    assert stored_epoch(path) == dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)
    assert parse_epoch("2026-01-02T04:00:00+01:00") == dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)


# --- Native format --------------------------------------------------------------------------------


def test_native_shape_and_determinism(sandbox):
    first = sandbox.track(NATIVE_NUMBER, "NOTFOUND1")
    second = sandbox.track(NATIVE_NUMBER, "NOTFOUND1")
    assert first == second
    assert first["not_found"] == ["NOTFOUND1"]
    (result,) = first["results"]
    assert set(result) == {
        "tracking_number",
        "status",
        "sub_status",
        "status_code",
        "status_text",
        "estimated_delivery",
        "origin",
        "destination",
        "events",
    }
    assert result["tracking_number"] == NATIVE_NUMBER
    assert result["status"] in STATUSES
    assert result["events"], result
    times = [parse(e["occurred_at"]) for e in result["events"]]
    assert times == sorted(times, reverse=True)
    assert max(times) <= dt.datetime.now(dt.UTC)
    for event in result["events"]:
        assert set(event) == {"occurred_at", "status", "description", "location", "code"}
        assert event["status"] in STATUSES
    assert result["status"] == result["events"][0]["status"]
    if result["estimated_delivery"] is not None:
        parse(result["estimated_delivery"])


def test_native_batch_limit(sandbox):
    numbers = [example_number("sandbox", i) for i in range(51)]
    url = f"{sandbox.url}/sandbox/v1/track"
    response = requests.get(url, params={"numbers": ",".join(numbers)})
    assert response.status_code == 400
    ok = requests.get(url, params={"numbers": ",".join(numbers[:50])})
    assert ok.status_code == 200


# --- DHL ------------------------------------------------------------------------------------------

DHL_KEY = {"DHL-API-Key": "any-key"}


def test_dhl_shape_not_found_and_auth(sandbox):
    url = f"{sandbox.url}/track/shipments"
    response = requests.get(url, params={"trackingNumber": DHL_NUMBER}, headers=DHL_KEY)
    assert response.status_code == 200
    (shipment,) = response.json()["shipments"]
    assert shipment["id"] == DHL_NUMBER
    assert shipment["service"] == "parcel-de"
    assert shipment["origin"]["address"]["countryCode"] == "DE"
    assert shipment["status"] == shipment["events"][0]
    for event in shipment["events"]:
        assert event["statusCode"] in {"pre-transit", "transit", "delivered", "failure", "unknown"}
        parse(event["timestamp"])
        assert event["location"]["address"]["addressLocality"]
    assert shipment["events"][-1]["statusCode"] == "pre-transit"

    missing = requests.get(url, params={"trackingNumber": "NOTFOUND9"}, headers=DHL_KEY)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.json()["status"] == 404
    assert missing.json()["title"]

    unauthorised = requests.get(url, params={"trackingNumber": DHL_NUMBER})
    assert unauthorised.status_code == 401
    assert unauthorised.json()["status"] == 401


# --- UPS ------------------------------------------------------------------------------------------


def ups_token(sandbox: SandboxProcess) -> str:
    response = requests.post(
        f"{sandbox.url}/security/v1/oauth/token",
        auth=("ups-client", "ups-secret"),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["status"] == "approved"
    assert body["expires_in"] == "14399"
    assert all(isinstance(v, str) for v in body.values())
    assert abs(int(body["issued_at"]) / 1000 - time.time()) < 60
    return body["access_token"]


def test_ups_oauth_and_tracking(sandbox):
    denied = requests.post(
        f"{sandbox.url}/security/v1/oauth/token", data={"grant_type": "client_credentials"}
    )
    assert denied.status_code == 401
    assert denied.json()["response"]["errors"][0]["code"]
    token = ups_token(sandbox)
    headers = {"Authorization": f"Bearer {token}", "transId": "t1", "transactionSrc": "resync"}
    url = f"{sandbox.url}/api/track/v1/details/{UPS_NUMBER}"
    body = requests.get(url, headers=headers).json()
    (shipment,) = body["trackResponse"]["shipment"]
    (package,) = shipment["package"]
    assert package["trackingNumber"] == UPS_NUMBER
    activity = package["activity"]
    assert package["currentStatus"] == activity[0]["status"]
    assert activity[-1]["status"]["type"] == "M"
    assert activity[-1]["status"]["statusCode"] == "003"
    for scan in activity:
        assert len(scan["date"]) == 8
        assert len(scan["time"]) == 6
        assert len(scan["gmtTime"]) == 6
        assert len(scan["status"]["statusCode"]) == 3
        assert scan["gmtOffset"][0] in "+-"

    missing = requests.get(f"{sandbox.url}/api/track/v1/details/NOTFOUND77", headers=headers)
    assert missing.status_code == 200
    (shipment,) = missing.json()["trackResponse"]["shipment"]
    assert "package" not in shipment
    assert shipment["warnings"][0]["code"] == "TW0001"

    bad = requests.get(url, headers={"Authorization": "Bearer not-issued-here"})
    assert bad.status_code == 401
    assert bad.json()["response"]["errors"][0]["code"] == "250002"


# --- FedEx ----------------------------------------------------------------------------------------


def fedex_token(sandbox: SandboxProcess) -> str:
    response = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    return body["access_token"]


def fedex_track(sandbox: SandboxProcess, token: str, numbers: list[str]) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/track/v1/trackingnumbers",
        json={
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers],
        },
        headers={"Authorization": f"Bearer {token}"},
    )


def test_fedex_oauth_batch_and_per_result_not_found(sandbox):
    token = fedex_token(sandbox)
    response = fedex_track(sandbox, token, [FEDEX_NUMBER, "NOTFOUND5"])
    assert response.status_code == 200
    complete = response.json()["output"]["completeTrackResults"]
    assert [c["trackingNumber"] for c in complete] == [FEDEX_NUMBER, "NOTFOUND5"]
    found = complete[0]["trackResults"][0]
    assert found["latestStatusDetail"]["derivedCode"]
    scans = found["scanEvents"]
    assert scans
    assert scans[-1]["eventType"] == "OC"
    assert found["latestStatusDetail"]["code"] == scans[0]["eventType"]
    for scan in scans:
        parse(scan["date"])
    missing = complete[1]["trackResults"][0]
    assert missing["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND"

    too_many = fedex_track(sandbox, token, [example_number("fedex", i) for i in range(31)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"]
    assert fedex_track(sandbox, token, [example_number("fedex", i) for i in range(30)]).ok

    bad = fedex_track(sandbox, "forged", [FEDEX_NUMBER])
    assert bad.status_code == 401
    assert bad.json()["errors"][0]["code"] == "NOT.AUTHORIZED.ERROR"
    ups_only = fedex_track(sandbox, ups_token(sandbox), [FEDEX_NUMBER])
    assert ups_only.status_code == 401  # a token is only good at the carrier that issued it


# --- USPS -----------------------------------------------------------------------------------------


def usps_token(sandbox: SandboxProcess) -> str:
    response = requests.post(
        f"{sandbox.url}/oauth2/v3/token",
        data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 28799
    assert isinstance(body["issued_at"], int)
    return body["access_token"]


def test_usps_oauth_detail_summary_and_404(sandbox):
    token = usps_token(sandbox)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{sandbox.url}/tracking/v3/tracking/{USPS_NUMBER}"
    detail = requests.get(url, params={"expand": "DETAIL"}, headers=headers).json()
    assert detail["trackingNumber"] == USPS_NUMBER
    events = detail["trackingEvents"]
    assert events[-1]["eventCode"] == "GX"
    for event in events:
        assert "+" not in event["eventTimestamp"]
        assert "Z" not in event["eventTimestamp"]
        assert event["GMTTimestamp"].endswith("Z")
        local = dt.datetime.fromisoformat(event["eventTimestamp"])
        utc = parse(event["GMTTimestamp"])
        assert parse(event["eventTimestamp"] + event["GMTOffset"]) == utc
        assert local.tzinfo is None
    summary = requests.get(url, headers=headers).json()
    assert "trackingEvents" not in summary
    assert summary["statusCategory"]

    missing = requests.get(f"{sandbox.url}/tracking/v3/tracking/NOTFOUND3", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "404"

    bad = requests.get(url, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert "WWW-Authenticate" in bad.headers
    assert bad.json()["apiVersion"] == "/tracking/v3"


# --- 17TRACK --------------------------------------------------------------------------------------

TOKEN_17 = {"17token": "any-key"}


def post_17(sandbox: SandboxProcess, endpoint: str, items: list, **kw) -> requests.Response:
    headers = kw.pop("headers", TOKEN_17)
    return requests.post(f"{sandbox.url}/track/v2.2/{endpoint}", json=items, headers=headers, **kw)


def test_17track_register_then_gettrackinfo(sandbox):
    item = [{"number": S10_NUMBER}]
    before = post_17(sandbox, "gettrackinfo", item).json()
    assert before["code"] == 0
    assert before["data"]["accepted"] == []
    assert before["data"]["rejected"][0]["error"]["code"] == -18019902

    registered = post_17(sandbox, "register", [*item, {"number": "NOTFOUND17"}]).json()
    assert [a["number"] for a in registered["data"]["accepted"]] == [S10_NUMBER]
    assert registered["data"]["rejected"][0]["number"] == "NOTFOUND17"
    assert registered["data"]["rejected"][0]["error"]["code"] == -18019903
    again = post_17(sandbox, "register", item).json()
    assert again["data"]["rejected"][0]["error"]["code"] == -18019901

    info = post_17(sandbox, "gettrackinfo", item).json()
    (accepted,) = info["data"]["accepted"]
    track = accepted["track_info"]
    assert track["latest_status"]["status"] in {
        "NotFound",
        "InfoReceived",
        "InTransit",
        "Expired",
        "AvailableForPickup",
        "OutForDelivery",
        "DeliveryFailure",
        "Delivered",
        "Exception",
    }
    events = track["tracking"]["providers"][0]["events"]
    assert track["latest_event"] == events[0]
    for event in events:
        assert event["time_utc"].endswith("Z")
        assert parse(event["time_iso"]) == parse(event["time_utc"])
    assert events[-1]["sub_status"] == "InfoReceived"


def test_17track_limits_and_auth(sandbox):
    numbers = [{"number": example_number("17track", i)} for i in range(41)]
    too_many = post_17(sandbox, "register", numbers)
    assert too_many.json()["code"] == -18010014
    assert post_17(sandbox, "gettrackinfo", numbers).json()["code"] == -18010014
    assert post_17(sandbox, "register", numbers[:40]).json()["code"] == 0
    unauthorised = post_17(sandbox, "gettrackinfo", numbers[:1], headers={})
    assert unauthorised.status_code == 401


# --- AfterShip ------------------------------------------------------------------------------------

AS_KEY = {"as-api-key": "any-key"}


def test_aftership_versions_create_and_not_found(sandbox):
    base = f"{sandbox.url}/tracking"
    new = requests.get(
        f"{base}/2025-01/trackings/singapore-post/{AFTERSHIP_NUMBER}", headers=AS_KEY
    )
    assert new.status_code == 200
    body = new.json()
    assert body["meta"]["code"] == 200
    tracking = body["data"]
    assert tracking["tracking_number"] == AFTERSHIP_NUMBER
    assert tracking["tag"] in {
        "Pending",
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "AttemptFail",
        "Delivered",
        "AvailableForPickup",
        "Exception",
        "Expired",
    }
    assert tracking["origin_country_region"] == "SGP"
    times = [parse(c["checkpoint_time"]) for c in tracking["checkpoints"]]
    assert times == sorted(times)  # oldest first
    assert tracking["checkpoints"][-1]["tag"] == tracking["tag"]

    old = requests.get(
        f"{base}/2024-04/trackings/singapore-post/{AFTERSHIP_NUMBER}", headers=AS_KEY
    )
    legacy = old.json()["data"]["tracking"]
    assert legacy["origin_country_iso3"] == "SGP"
    assert "expected_delivery" in legacy
    v4 = requests.get(
        f"{sandbox.url}/v4/trackings/singapore-post/{AFTERSHIP_NUMBER}",
        headers={"aftership-api-key": "k"},
    )
    assert v4.json()["data"]["tracking"]["checkpoints"] == legacy["checkpoints"]

    missing = requests.get(f"{base}/2025-01/trackings/dhl/NOTFOUND2", headers=AS_KEY)
    assert missing.status_code == 404
    assert missing.json()["meta"]["code"] == 4004

    created = requests.post(
        f"{base}/2025-01/trackings",
        json={"tracking_number": AFTERSHIP_NUMBER, "slug": "singapore-post"},
        headers=AS_KEY,
    )
    assert created.status_code == 201
    tracking_id = created.json()["data"]["id"]
    assert tracking_id == tracking_ids("singapore-post", AFTERSHIP_NUMBER)[0]
    by_id = requests.get(f"{base}/2025-01/trackings/{tracking_id}", headers=AS_KEY)
    assert by_id.json()["data"]["tracking_number"] == AFTERSHIP_NUMBER
    duplicate = requests.post(
        f"{base}/2025-01/trackings",
        json={"tracking_number": AFTERSHIP_NUMBER, "slug": "singapore-post"},
        headers=AS_KEY,
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["meta"]["code"] == 4003
    listed = requests.get(
        f"{base}/2025-01/trackings",
        params={"tracking_numbers": f"{AFTERSHIP_NUMBER},NOTFOUND2"},
        headers=AS_KEY,
    ).json()["data"]["trackings"]
    assert [t["tracking_number"] for t in listed] == [AFTERSHIP_NUMBER]
    unknown = requests.post(
        f"{base}/2025-01/trackings", json={"tracking_number": "NOTFOUND2"}, headers=AS_KEY
    )
    assert unknown.status_code == 400
    assert unknown.json()["meta"]["code"] == 4012

    unauthorised = requests.get(f"{base}/2025-01/trackings/dhl/{DHL_NUMBER}")
    assert unauthorised.status_code == 401
    assert unauthorised.json()["meta"]["code"] == 401


# --- One history, every format --------------------------------------------------------------------


def test_every_format_renders_the_same_history(sandbox):
    number = UPS_NUMBER
    native = [parse(e["occurred_at"]) for e in sandbox.track(number)["results"][0]["events"]]
    dhl = requests.get(
        f"{sandbox.url}/track/shipments", params={"trackingNumber": number}, headers=DHL_KEY
    ).json()["shipments"][0]["events"]
    assert [parse(e["timestamp"]) for e in dhl] == native
    ups = requests.get(
        f"{sandbox.url}/api/track/v1/details/{number}",
        headers={"Authorization": f"Bearer {ups_token(sandbox)}"},
    ).json()["trackResponse"]["shipment"][0]["package"][0]["activity"]
    ups_times = [
        dt.datetime.strptime(a["gmtDate"] + a["gmtTime"], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
        for a in ups
    ]
    assert ups_times == native
    fedex = fedex_track(sandbox, fedex_token(sandbox), [number]).json()
    scans = fedex["output"]["completeTrackResults"][0]["trackResults"][0]["scanEvents"]
    assert [parse(s["date"]) for s in scans] == native


# --- Control API ----------------------------------------------------------------------------------


def test_added_event_appears_in_native_and_carrier_formats(sandbox):
    event = sandbox.add_event(
        DHL_NUMBER,
        status="out_for_delivery",
        description="With the courier now",
        location="Köln, DE",
    )
    assert event["status"] == "out_for_delivery"
    assert abs(parse(event["occurred_at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    result = sandbox.track(DHL_NUMBER)["results"][0]
    assert result["status"] == "out_for_delivery"
    assert result["events"][0]["description"] == "With the courier now"
    assert result["events"][0]["location"] == "Köln, DE"
    assert parse(result["events"][0]["occurred_at"]).utcoffset() == dt.timedelta(hours=1)
    dhl = requests.get(
        f"{sandbox.url}/track/shipments", params={"trackingNumber": DHL_NUMBER}, headers=DHL_KEY
    ).json()["shipments"][0]
    assert dhl["status"]["description"] == "With the courier now"
    assert dhl["events"][0]["location"]["address"]["addressLocality"] == "Köln"

    default = sandbox.add_event(DHL_NUMBER)
    assert default["status"] == "in_transit"
    assert default["location"] == "Köln, DE"
    bad = requests.post(
        f"{sandbox.url}/_sandbox/numbers/{DHL_NUMBER}/events", json={"status": "lost"}
    )
    assert bad.status_code == 400

    sandbox.forget(DHL_NUMBER)
    assert sandbox.track(DHL_NUMBER)["results"][0]["events"][0]["description"] != (
        "With the courier now"
    )


def test_fail_gives_500_in_the_carrier_shape_and_times_auto_clears(sandbox):
    sandbox.fault(FEDEX_NUMBER, "fail", times=2)
    token = fedex_token(sandbox)
    for _ in range(2):
        failed = fedex_track(sandbox, token, [example_number("fedex", 2), FEDEX_NUMBER])
        assert failed.status_code == 500
        assert failed.json()["errors"][0]["code"] == "INTERNAL.SERVER.ERROR"
    assert fedex_track(sandbox, token, [FEDEX_NUMBER]).status_code == 200

    sandbox.fault(NATIVE_NUMBER, "fail")
    failing = requests.get(f"{sandbox.url}/sandbox/v1/track", params={"numbers": NATIVE_NUMBER})
    assert failing.status_code == 500
    sandbox.fault(NATIVE_NUMBER, "none")
    assert sandbox.track(NATIVE_NUMBER)["results"]


def test_rate_limit_with_retry_after_in_seconds_and_as_http_date(sandbox):
    sandbox.fault(UPS_NUMBER, "rate_limit", retry_after="7", times=1)
    headers = {"Authorization": f"Bearer {ups_token(sandbox)}"}
    url = f"{sandbox.url}/api/track/v1/details/{UPS_NUMBER}"
    limited = requests.get(url, headers=headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["response"]["errors"][0]["code"] == "10429"
    assert requests.get(url, headers=headers).status_code == 200

    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), True)
    sandbox.fault(DHL_NUMBER, "rate_limit", retry_after=when)
    limited = requests.get(
        f"{sandbox.url}/track/shipments", params={"trackingNumber": DHL_NUMBER}, headers=DHL_KEY
    )
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == when
    assert email.utils.parsedate_to_datetime(limited.headers["Retry-After"]) is not None
    assert limited.json()["status"] == 429


def test_hang_delays_the_answer(sandbox):
    sandbox.fault(NATIVE_NUMBER, "hang", seconds=1, times=1)
    started = time.monotonic()
    assert sandbox.track(NATIVE_NUMBER)["results"]
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    sandbox.track(NATIVE_NUMBER)
    assert time.monotonic() - started < 1.0


def test_unknown_fault_rejects_only_that_number(sandbox):
    sandbox.fault(FEDEX_NUMBER, "unknown")
    other = example_number("fedex", 3)
    complete = fedex_track(sandbox, fedex_token(sandbox), [FEDEX_NUMBER, other]).json()["output"][
        "completeTrackResults"
    ]
    assert complete[0]["trackResults"][0]["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND"
    assert "error" not in complete[1]["trackResults"][0]
    assert sandbox.track(FEDEX_NUMBER)["not_found"] == [FEDEX_NUMBER]


def test_carrier_fault_hits_the_whole_carrier_only(sandbox):
    sandbox.carrier_fault("dhl", "fail")
    url = f"{sandbox.url}/track/shipments"
    failed = requests.get(url, params={"trackingNumber": DHL_NUMBER}, headers=DHL_KEY)
    assert failed.status_code == 500
    assert failed.json()["status"] == 500
    assert sandbox.track(DHL_NUMBER)["results"]  # the native endpoint is another carrier
    sandbox.carrier_fault("dhl", "none")
    assert requests.get(url, params={"trackingNumber": DHL_NUMBER}, headers=DHL_KEY).ok
    unknown = requests.post(f"{sandbox.url}/_sandbox/carriers/pigeon/fault", json={"kind": "fail"})
    assert unknown.status_code == 404


def test_stats_count_requests_tokens_and_numbers_and_reset_clears_them(sandbox):
    token = fedex_token(sandbox)
    fedex_token(sandbox)
    usps_token(sandbox)
    fedex_track(sandbox, token, [FEDEX_NUMBER, example_number("fedex", 4)])
    sandbox.track(NATIVE_NUMBER)
    stats = sandbox.stats()
    assert stats["token_requests"] == {"fedex": 2, "usps": 1}
    assert stats["numbers_requested"] == {"fedex": 2, "sandbox": 1}
    assert stats["by_route"]["fedex.track"] == 1
    assert stats["by_route"]["fedex.token"] == 2
    assert stats["by_carrier"]["fedex"] == 3
    assert stats["requests"] == 5
    sandbox.fault(NATIVE_NUMBER, "fail")
    sandbox.reset()
    assert sandbox.stats()["requests"] == 0
    assert sandbox.track(NATIVE_NUMBER)["results"]  # the fault went too
    # Tokens issued before a reset stay valid (clients cache them).
    assert fedex_track(sandbox, token, [FEDEX_NUMBER]).status_code == 200


def test_keep_alive_connections_are_reused(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    try:
        connection.request("GET", f"/sandbox/v1/track?numbers={NATIVE_NUMBER}")
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        assert sock is not None  # not closed after the answer
        connection.request("GET", "/_sandbox/health")
        second = connection.getresponse()
        assert second.status == 200
        second.read()
        assert connection.sock is sock
    finally:
        connection.close()


@pytest.fixture(scope="module")
def slow_sandbox():
    process = SandboxProcess(latency_ms=400).start()
    yield process
    process.stop()


def test_latency_flag_delays_carrier_routes_not_the_control_api(slow_sandbox):
    started = time.monotonic()
    slow_sandbox.track(NATIVE_NUMBER)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    slow_sandbox.stats()
    assert time.monotonic() - started < 0.4
