"""The carrier-push half of the 17TRACK and AfterShip adapters: signatures and payloads.

A push is parsed by the very function the pull uses, so the same document gives the same
`TrackingResult` either way."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from shipments.carriers import aftership, push, seventeentrack

SAMPLES = Path(__file__).resolve().parents[3] / "connect" / "samples" / "carrier_push"
PAYLOADS = Path(__file__).resolve().parent / "payloads"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_17track_signature_is_hex_sha256_of_body_slash_key():
    body = b'{"event":"TRACKING_UPDATED"}'
    expected = hashlib.sha256(body + b"/secret-key").hexdigest()
    assert push.sign_17track(body, "secret-key") == expected
    assert push.signature_matches("17track", body, expected, "secret-key")
    assert push.signature_matches("17track", body, expected.upper(), "secret-key")
    assert not push.signature_matches("17track", body + b" ", expected, "secret-key")
    assert not push.signature_matches("17track", body, expected, "other-key")


def test_aftership_signature_is_base64_hmac_sha256_of_body():
    body = b'{"event":"tracking_update"}'
    digest = hmac.new(b"whsec", body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert push.sign_aftership(body, "whsec") == expected
    assert push.signature_matches("aftership", body, expected, "whsec")
    assert not push.signature_matches("aftership", body, expected.lower(), "whsec")


@pytest.mark.parametrize("header", [None, "", "é", "not-a-signature"])
def test_missing_or_odd_headers_and_no_secret_never_match(header):
    body = b"{}"
    assert not push.signature_matches("17track", body, header, "key")
    assert not push.signature_matches("aftership", body, header, "key")
    good = push.sign_aftership(body, "")
    assert not push.signature_matches("aftership", body, good, "")  # no secret: refused


def test_a_17track_push_parses_as_the_pulled_item():
    pushed = push.parse("17track", _load(SAMPLES / "17track_tracking_updated.json"))
    pulled = seventeentrack.parse_track_response(
        _load(PAYLOADS / "17track" / "gettrackinfo_documented.json"), requested=["LX123456789CN"]
    ).results["LX123456789CN"]
    assert (pushed.kind, pushed.tracking_number, pushed.event) == (
        push.UPDATED,
        "LX123456789CN",
        "TRACKING_UPDATED",
    )
    assert pushed.result == pulled
    assert pushed.source_time == dt.datetime(2025, 3, 5, 12, 30, tzinfo=dt.UTC)


def test_an_aftership_webhook_parses_as_the_pulled_tracking():
    pushed = push.parse("aftership", _load(SAMPLES / "aftership_tracking_update.json"))
    pulled = aftership.parse_response(
        _load(PAYLOADS / "aftership" / "tracking_documented_2025-01.json"),
        tracking_number="794612345672",
    )
    assert pushed.kind == push.UPDATED
    assert pushed.result == pulled
    assert pushed.source_time == dt.datetime(2025, 3, 6, 14, 20, tzinfo=dt.UTC)


def test_stopped_other_events_and_bad_bodies():
    stopped = push.parse("17track", _load(SAMPLES / "17track_tracking_stopped.json"))
    assert (stopped.kind, stopped.result) == (push.STOPPED, None)
    other = push.parse("aftership", {"event": "edd_revise", "msg": {"tracking_number": "x-1"}})
    assert (other.kind, other.tracking_number) == (push.OTHER, "X1")
    for provider in push.PROVIDERS:
        with pytest.raises(push.BadPush):
            push.parse(provider, [])
        with pytest.raises(push.BadPush):
            push.parse(provider, {"event": "x"})
    assert push.push_number("17track", {"data": {"number": " lx 1 "}}) == "LX1"
    assert push.push_number("aftership", "not an object") == ""
