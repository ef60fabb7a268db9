"""`manage.py track` against the carrier sandbox, in a real subprocess, for every carrier."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .worker_fixtures import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = {
    "dhl": "00340434161094042557",
    "ups": "1Z999AA10123456784",
    "fedex": "123456789012",
    "usps": "9400111899223197428490",
    "17track": "RB123456785GB",
    "aftership": "LZ123456785CN",
    "sandbox": "SBX000000000001",
}


def track(carrier_sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **SANDBOX_CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings_test",
        "CARRIER_SANDBOX_URL": carrier_sandbox.url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "track", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("carrier", sorted(NUMBERS))
def test_track_prints_the_contract_json_for_every_carrier(sandbox, carrier):
    number = NUMBERS[carrier]
    sandbox.add_event(number, status="out_for_delivery", description="Loaded on the van")
    result = track(sandbox, carrier, number, "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {
        "carrier",
        "tracking_number",
        "status",
        "sub_status",
        "estimated_delivery",
        "events",
    }
    assert (body["carrier"], body["tracking_number"]) == (carrier, number)
    assert body["status"] == "out_for_delivery"
    assert body["events"], body
    times = [dt.datetime.fromisoformat(e["occurred_at"]) for e in body["events"]]
    assert all(t.utcoffset() is not None for t in times)  # ISO 8601 with offset
    assert times == sorted(times, reverse=True)  # newest first
    assert body["events"][0]["description"] == "Loaded on the van"
    assert set(body["events"][0]) == {"occurred_at", "status", "description", "location"}


def test_track_exits_1_with_one_line_for_unknown_carrier_number_or_failure(sandbox):
    unknown_carrier = track(sandbox, "pigeon", "123")
    assert unknown_carrier.returncode == 1
    assert "unknown carrier" in unknown_carrier.stderr
    assert len(unknown_carrier.stderr.strip().splitlines()) == 1

    not_found = track(sandbox, "dhl", "NOTFOUND123", "--json")
    assert not_found.returncode == 1
    assert "not_found" in not_found.stderr
    assert not_found.stdout == ""

    sandbox.fault(NUMBERS["ups"], "fail")
    failure = track(sandbox, "ups", NUMBERS["ups"])
    assert failure.returncode == 1
    assert "unavailable" in failure.stderr
    assert len(failure.stderr.strip().splitlines()) == 1


def test_track_prints_a_readable_history(sandbox):
    result = track(sandbox, "fedex", NUMBERS["fedex"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"fedex {NUMBERS['fedex']}: ")
    assert "estimated delivery" in result.stdout
