"""Requests per second the carrier sandbox sustains, native endpoint and one carrier endpoint.

    .venv/bin/python bench/sandbox_throughput.py [--threads 8] [--seconds 5] [--url http://…]

Without --url it starts `manage.py carrier_sandbox` on a free port and stops it afterwards.
Each thread has its own requests.Session (keep-alive). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

from harness.sandbox import SandboxProcess  # noqa: E402
from shipments.carriers.numbers import example_number  # noqa: E402


def hammer(name: str, threads: int, seconds: float, call) -> None:
    """`call` in `threads` keep-alive sessions for `seconds`; prints requests/s of 200s."""
    rate, total, errors = c.hammer(threads, seconds, call)
    elapsed = total / rate if rate else seconds
    print(
        f"{name:<34} {threads:>2} threads  {total:>6} ok / {elapsed:4.1f} s  "
        f"= {rate:7.0f} req/s  ({errors} errors)"
    )


def native_batch(url: str, numbers: list[str], size: int):
    """The sandbox's own endpoint (not a carrier of shipments): raw HTTP throughput."""

    def call(s, i: int, n: int):
        start = (i * 31 + n) * size % len(numbers) if size == 1 else (n % 20) * size
        return s.get(
            f"{url}/sandbox/v1/track",
            params={"numbers": ",".join(numbers[start : start + size])},
            timeout=10,
        )

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()

    process = None
    url = args.url.rstrip("/")
    if not url:
        process = SandboxProcess(
            env={**c.harness_env.child_env(), "DJANGO_SETTINGS_MODULE": "resync_site.settings_test"}
        ).start()
        url = process.url
    numbers = [example_number("sandbox", i) for i in range(200)]
    dhl_numbers = [example_number("dhl", i) for i in range(200)]
    try:
        for size in (1, 10):
            label = f"native GET /sandbox/v1/track ({size})"
            hammer(label, args.threads, args.seconds, native_batch(url, numbers, size))
        hammer("DHL GET /track/shipments", args.threads, args.seconds, c.dhl_call(url, dhl_numbers))
    finally:
        if process is not None:
            process.stop()


if __name__ == "__main__":
    main()
