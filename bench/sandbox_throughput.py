"""Requests per second the carrier sandbox sustains, native endpoint and one carrier endpoint.

    .venv/bin/python bench/sandbox_throughput.py [--threads 8] [--seconds 5] [--url http://…]

Without --url it starts `manage.py carrier_sandbox` on a free port and stops it afterwards.
Each thread has its own requests.Session (keep-alive). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shipments.carriers.numbers import example_number  # noqa: E402
from shipments.tests.sandbox_fixtures import SandboxProcess  # noqa: E402


def hammer(name: str, threads: int, seconds: float, call) -> None:
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        with requests.Session() as session:
            n = 0
            while time.monotonic() < stop:
                response = call(session, i, n)
                if response.status_code == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
                n += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    total = sum(counts)
    print(
        f"{name:<34} {threads:>2} threads  {total:>6} ok / {elapsed:4.1f} s  "
        f"= {total / elapsed:7.0f} req/s  ({sum(errors)} errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()

    process = None
    url = args.url.rstrip("/")
    if not url:
        process = SandboxProcess().start()
        url = process.url
    numbers = [example_number("sandbox", i) for i in range(200)]
    dhl_numbers = [example_number("dhl", i) for i in range(200)]
    try:
        hammer(
            "native GET /sandbox/v1/track (1)",
            args.threads,
            args.seconds,
            lambda s, i, n: s.get(
                f"{url}/sandbox/v1/track", params={"numbers": numbers[(i * 31 + n) % 200]}
            ),
        )
        hammer(
            "native GET /sandbox/v1/track (10)",
            args.threads,
            args.seconds,
            lambda s, i, n: s.get(
                f"{url}/sandbox/v1/track",
                params={"numbers": ",".join(numbers[(n % 20) * 10 : (n % 20) * 10 + 10])},
            ),
        )
        hammer(
            "DHL GET /track/shipments",
            args.threads,
            args.seconds,
            lambda s, i, n: s.get(
                f"{url}/track/shipments",
                params={"trackingNumber": dhl_numbers[(i * 31 + n) % 200]},
                headers={"DHL-API-Key": "bench"},
            ),
        )
    finally:
        if process is not None:
            process.stop()


if __name__ == "__main__":
    main()
