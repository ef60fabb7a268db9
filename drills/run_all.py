"""Run every fault drill, one after the other, each in its own process; summary at the end.

    .venv/bin/python drills/run_all.py [--quick] [--sqlite] [--repeat 2] [--only NAME ...]

Exit status 0 only if every run of every drill passed. Each drill's own output is shown as it
goes; the summary lists PASS/FAIL and the time of each run.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRILLS = (
    "worker_killed",
    "redis_restarted",
    "redis_hung",
    "carrier_misbehaving",
    "click_storm",
    "news_out",
)
# A drill that hangs beyond this is stopped and counted as failed (each has its own timeouts).
LIMIT_SECONDS = {"quick": 300, "full": 1200}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--repeat", type=int, default=1, help="run each drill N times in a row")
    parser.add_argument("--only", nargs="+", choices=DRILLS, help="run only these drills")
    args = parser.parse_args()
    extra = [flag for flag, on in (("--quick", args.quick), ("--sqlite", args.sqlite)) if on]
    limit = LIMIT_SECONDS["quick" if args.quick else "full"]

    results: list[tuple[str, int, str, float]] = []
    started = time.monotonic()
    for name in args.only or DRILLS:
        for attempt in range(1, args.repeat + 1):
            command = [sys.executable, str(HERE / f"{name}.py"), *extra]
            print(f"\n### {name} (run {attempt}/{args.repeat}): {' '.join(command)}", flush=True)
            t0 = time.monotonic()
            process = subprocess.Popen(command)
            try:
                code = process.wait(timeout=limit)
                verdict = "PASS" if code == 0 else f"FAIL (exit {code})"
            except subprocess.TimeoutExpired:
                # SIGTERM lets the drill stop what it started and drop its database.
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                verdict = f"FAIL (no end after {limit}s)"
            except KeyboardInterrupt:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=90)
                raise
            results.append((name, attempt, verdict, time.monotonic() - t0))

    print("\n=== fault drills ===")
    for name, attempt, verdict, took in results:
        print(f"{verdict:<28} {name:<22} run {attempt}  {took:6.1f}s")
    failed = [r for r in results if not r[2].startswith("PASS")]
    print(
        f"=== {len(results) - len(failed)}/{len(results)} passed in "
        f"{time.monotonic() - started:.0f}s ==="
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
