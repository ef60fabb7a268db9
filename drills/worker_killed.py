"""Drill: `kill -9` the Celery worker (its whole process group) in the middle of a bulk run.

    .venv/bin/python drills/worker_killed.py [--quick] [--sqlite] [-n 3000]

A merchant starts a bulk resync of a few thousand shipments (six carriers, sandbox latency 50 ms).
When about 30 % is done the worker and its pool get SIGKILL; a new worker is started. The
messages the dead worker held are lost to Redis (acks_late keeps them unacked until the
visibility timeout), so the reconciler (beat, SYNC_RUN_STALL_SECONDS=10) must resume the run.
Checks: the run completes, done == total == changed + unchanged + failed, one item per shipment,
no duplicate events, every shipment synced.
"""

from __future__ import annotations

import math
import sys
import time

from _drill import Drill, Process, Seeded, arguments, group_members, main, wait_until

FULL_N, QUICK_N = 3000, 600


def start_phase(d: Drill) -> tuple[Seeded, Process]:
    """Redis, database, seed data, then sandbox, web, one worker and beat."""
    d.start_redis()
    d.migrate()
    seeded = d.seed(shipments=d.args.shipments)
    worker = d.start_stack(latency_ms=50, concurrency=2)["worker1"]
    d.report.step(f"settings: {d.describe_settings()}")
    return seeded, worker


def kill_worker_phase(d: Drill, worker: Process, run_id: int, started: float) -> None:
    """At 30 % of the run, `kill -9` the worker's whole process group; nothing of it is left."""
    n = d.args.shipments
    target = math.ceil(0.3 * n)
    run = d.wait_run_done(
        run_id,
        target,
        timeout=240 if not d.args.quick else 60,
        what=f"run {run_id} to reach 30 % ({target})",
    )
    pgid = worker.pid
    worker.kill()
    d.report.step(
        f"kill -9 of worker1's process group {pgid} at {run.done}/{run.total} "
        f"({run.done * 100 // run.total} %), {time.monotonic() - started:.1f}s into the run"
    )
    left = wait_until(
        lambda: not group_members(pgid) or None, timeout=5, what="the group to die", interval=0.1
    )
    d.report.check("no process of the killed worker's group is left", bool(left), f"pgid {pgid}")


def new_worker_phase(d: Drill, run_id: int, started: float) -> None:
    """Two seconds without a worker, then a new one; the run must finish."""
    time.sleep(2)
    frozen = d.run_row(run_id)
    d.report.step(f"2 s later, with no worker: {frozen.state} {frozen.done}/{frozen.total}")
    killed_at = time.monotonic()
    d.start_worker("worker2", concurrency=2)
    final = d.wait_run_finished(run_id, timeout=300 if not d.args.quick else 90)
    d.report.step(
        f"run {run_id} {final.state} {time.monotonic() - killed_at:.1f}s after the kill, "
        f"{time.monotonic() - started:.1f}s in all"
    )


def verify_run_phase(d: Drill, seeded: Seeded, run_id: int) -> None:
    """Exact counts, no failures, every shipment synced once more."""
    from shipments.models import Shipment

    n = d.args.shipments
    run = d.check_run_exact(run_id, expected_total=n)
    d.report.check(
        "run completed without failures",
        run.state == "completed" and run.failed == 0,
        f"state={run.state} changed={run.changed} unchanged={run.unchanged} failed={run.failed}",
    )
    synced = Shipment.objects.filter(
        store_id=seeded.store_id, last_sync_outcome="ok", last_synced_at__isnull=False
    ).count()
    d.report.check("every shipment synced once more (outcome ok)", synced == n, f"{synced}/{n}")


def verify_logs_phase(d: Drill, run_id: int) -> None:
    """The reconciler resumed the run; the sandbox's counts; no tracebacks."""
    logs = "".join(s.all_output() for s in d.services if s.name.startswith("worker"))
    resumed = logs.count(f"run {run_id} stalled since")
    d.report.check(
        "the reconciler resumed the stalled run (beat → sync_runs_reconcile)",
        resumed >= 1,
        f"{resumed} resume(s) logged",
    )
    stats = d.sandbox.stats()
    d.report.step(
        f"sandbox: {stats['requests']} requests, "
        f"{sum(stats.get('numbers_requested', {}).values())} numbers asked about "
        "(the dead worker's chunks were asked again; the events stayed unique)"
    )
    d.check_no_tracebacks(*[s for s in d.services if s.name in ("web", "worker2", "beat")])


def drill(d: Drill) -> None:
    seeded, worker = start_phase(d)
    merchant = d.merchant(seeded.merchants[0])
    started = time.monotonic()
    run_id = d.start_bulk_run(merchant)
    kill_worker_phase(d, worker, run_id, started)
    new_worker_phase(d, run_id, started)
    verify_run_phase(d, seeded, run_id)
    verify_logs_phase(d, run_id)


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], full_n=FULL_N, quick_n=QUICK_N)
    sys.exit(main(drill, Drill("worker_killed", args)))
