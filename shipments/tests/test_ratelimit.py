"""The per-carrier rate limit holds across processes (real Redis, real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipments.carriers import ratelimit
from shipments.carriers.base import Throttled

ROOT = Path(__file__).resolve().parents[2]

HAMMER = """
import os, sys, time
import django
django.setup()
from shipments.carriers import ratelimit
from shipments.carriers.base import Throttled
print("ready", flush=True)
start, stop = (float(v) for v in sys.stdin.readline().split())
while time.time() < start:
    time.sleep(0.001)
admitted = 0
while time.time() < stop:
    try:
        ratelimit.acquire("dhl")
        admitted += 1
    except Throttled as exc:
        time.sleep(min(exc.retry_after, 0.005))
print(admitted, flush=True)
"""


def test_several_processes_together_stay_within_the_carriers_rate():
    rate, seconds, processes = 40, 4.0, 4
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings_test",
        "DHL_RATE_LIMIT": str(rate),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    # The clock starts once every process has loaded Django (slow on a busy machine).
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    start = time.time() + 0.5
    for proc in procs:
        proc.stdin.write(f"{start} {start + seconds}\n")
        proc.stdin.flush()
    counts = [int(p.communicate(timeout=30)[0].strip()) for p in procs]
    total = sum(counts)
    expected = rate * seconds
    assert abs(total - expected) <= expected * 0.05, (total, counts)
    assert all(c > 0 for c in counts)  # every process got its share


def test_a_429_pauses_the_carrier_for_every_caller(settings):
    settings.CARRIER_RATE_LIMITS = {**settings.CARRIER_RATE_LIMITS, "ups": 1000}
    ratelimit.acquire("ups")
    ratelimit.pause("ups", 2.5)
    with pytest.raises(Throttled) as caught:
        ratelimit.acquire("ups")
    assert 2.0 < caught.value.retry_after <= 2.5
    ratelimit.acquire("fedex")  # other carriers are not affected


def test_a_limit_of_zero_turns_the_limiter_off(settings):
    settings.CARRIER_RATE_LIMITS = {**settings.CARRIER_RATE_LIMITS, "dhl": 0}
    for _ in range(100):
        ratelimit.acquire("dhl")
