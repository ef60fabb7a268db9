"""Single resync latency (click → job succeeded) while another store's bulk run is in progress.

    .venv/bin/python bench/single_during_bulk.py [--shipments 10000] [--latency-ms 200]
        [--concurrency 2] [--clicks 10] [--idle-clicks 6] [--interval 4]
        [--database-url sqlite:///…|postgres://…] [--redis-url redis://127.0.0.1:6379/9]
        [--carrier-concurrency N] [--wait-bulk]

Seeds store A with --shipments shipments and store B with a few (the six demo carriers), starts
the carrier sandbox at --latency-ms and `celery -A resync_site worker --concurrency N`. First a
few clicks on an idle worker (the baseline), then store A's `60d` bulk resync, and once it is
running, --clicks single resyncs of store B's shipments (one carrier after the other), clearing
the shipment cooldown between clicks with `services.shipment_clear_cooldown`. Each click is
`services.shipment_resync`, then the job row is polled every 10 ms. Prints p50/p95/max, the
queue wait (click → job running) and the execution (running → succeeded). Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

TARGET_S = 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000, help="store A's bulk run")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--clicks", type=int, default=10, help="single resyncs during the run")
    parser.add_argument("--idle-clicks", type=int, default=6, help="baseline, no bulk run")
    parser.add_argument(
        "--interval",
        type=float,
        default=4.0,
        help="seconds between clicks (spread them over the run's carriers)",
    )
    parser.add_argument(
        "--database-url", default=c.default_sqlite_url("single_during_bulk.sqlite3")
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--carrier-concurrency", type=int, default=None)
    parser.add_argument(
        "--wait-bulk", action="store_true", help="let the bulk run finish and report its wall"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="per click")
    return parser.parse_args()


def click(shipment, timeout: float) -> dict:
    """One single resync, like the details page's button; polls the job until it finishes."""
    from django.db import close_old_connections

    from shipments import services
    from shipments.models import ResyncJob

    services.shipment_clear_cooldown(shipment=shipment)
    started = time.monotonic()
    verdict = services.shipment_resync(shipment=shipment, source="merchant")
    accepted = time.monotonic()
    if not verdict.accepted:
        raise SystemExit(f"click refused: {verdict.reason} ({verdict.retry_after} s)")
    running_at = None
    deadline = started + timeout
    while True:
        close_old_connections()
        state = ResyncJob.objects.values_list("state", flat=True).get(pk=verdict.job.pk)
        now = time.monotonic()
        if state == "running" and running_at is None:
            running_at = now
        if state in ("succeeded", "failed"):
            break
        if now > deadline:
            state = "timeout"
            break
        time.sleep(0.01)
    return {
        "carrier": shipment.carrier,
        "state": state,
        "latency": now - started,
        "accept": accepted - started,
        "queued": (running_at or now) - started,
        "running": now - (running_at or now),
    }


def summary(samples: list[dict]) -> str:
    latencies = [s["latency"] for s in samples]
    return (
        f"p50 {c.percentile(latencies, 50):.2f} s, p95 {c.percentile(latencies, 95):.2f} s, "
        f"max {max(latencies):.2f} s (n={len(latencies)}; queue wait p50 "
        f"{c.percentile([s['queued'] for s in samples], 50):.2f} s, max "
        f"{max(s['queued'] for s in samples):.2f} s)"
    )


def seed_phase(args) -> tuple[Any, list]:
    """Store A for the bulk run, store B's few shipments for the clicks."""
    from shipments.models import Shipment

    bulk_store = c.seed_store("bench-bulk", args.shipments)
    single_store = c.seed_store("bench-single", 6 * 4, number_offset=800_000)
    singles = list(Shipment.objects.filter(store=single_store).order_by("id"))
    print(f"seeded {args.shipments} + {len(singles)} shipments", flush=True)
    return bulk_store, singles


def idle_clicks_phase(args, singles: list) -> list[dict]:
    """The baseline: clicks on an idle worker."""
    idle = []
    for i in range(args.idle_clicks):
        idle.append(click(singles[i % len(singles)], args.timeout))
        time.sleep(0.2)
    return idle


def start_bulk_phase(bulk_store) -> tuple[int, float, Any]:
    """Store A's 60d bulk resync, until it has made progress (at most 60 s)."""
    from django.db import close_old_connections

    from shipments import services
    from shipments.models import RequestSource, SyncRun

    t0 = time.monotonic()
    verdict = services.store_bulk_resync(
        store=bulk_store, window="60d", source=RequestSource.CLI, force=True
    )
    run_id = verdict.run.pk
    while True:  # clicks start once the run is really under way
        close_old_connections()
        run = SyncRun.objects.get(pk=run_id)
        if run.done > 0 or time.monotonic() - t0 > 60:
            break
        time.sleep(0.05)
    print(f"bulk run {run_id} {run.state} {run.done}/{run.total}; clicking", flush=True)
    return run_id, t0, run


def clicks_during_bulk_phase(args, singles: list, run_id: int, total: int) -> list[dict]:
    """--clicks single resyncs while the run goes, --interval seconds apart."""
    from shipments.models import SyncRun

    during = []
    for i in range(args.clicks):
        # Start with a different carrier than the idle clicks did.
        shipment = singles[(args.idle_clicks + i) % len(singles)]
        sample = click(shipment, args.timeout)
        during.append(sample)
        done = SyncRun.objects.values_list("done", flat=True).get(pk=run_id)
        print(
            f"  click {i + 1:>2} {sample['carrier']:<9} {sample['state']:<9} "
            f"{sample['latency']:.2f} s (queued {sample['queued']:.2f} s, "
            f"running {sample['running']:.2f} s)  bulk {done}/{total}",
            flush=True,
        )
        time.sleep(args.interval)
    return during


def bulk_end_phase(args, run_id: int, t0: float) -> tuple[Any, tuple, float | None]:
    """The run after the last click; with --wait-bulk, waited for to its end."""
    from django.db import close_old_connections

    from shipments.models import SyncRun

    close_old_connections()
    run = SyncRun.objects.get(pk=run_id)
    last_progress = (run.state, run.done, run.total)
    bulk_wall = None
    if args.wait_bulk:
        while run.state not in ("completed", "completed_with_errors", "failed"):
            time.sleep(0.2)
            close_old_connections()
            run = SyncRun.objects.get(pk=run_id)
        bulk_wall = time.monotonic() - t0
    return run, last_progress, bulk_wall


def target_verdict(during: list[dict]) -> str:
    latencies = [s["latency"] for s in during]
    return (
        f"   target ≤ {TARGET_S} s: "
        + ("MET" if max(latencies) <= TARGET_S else "MISSED (max)")
        + ("" if c.percentile(latencies, 95) <= TARGET_S else " / MISSED (p95)")
    )


def report_rows(args, db_kind: str, note: str, samples: dict, progress: dict) -> list:
    """The printed figures: `samples` idle/during, `progress` first/last/run/wall."""
    from django.conf import settings

    idle, during = samples["idle"], samples["during"]
    first_progress, last_progress = progress["first"], progress["last"]
    still_running = last_progress[0] in ("queued", "running")
    rows = [
        ("database", f"{db_kind} ({settings.DATABASES['default']['NAME']}); {note}"),
        ("sandbox latency", f"{args.latency_ms} ms"),
        (
            "worker",
            f"--concurrency {args.concurrency}, fan-out {progress['fan_out']} per track(); "
            "chunks: " + c.chunk_sizes(),
        ),
        ("idle worker (baseline)", summary(idle) if idle else "-"),
        ("during the bulk run", summary(during) + target_verdict(during)),
        (
            "by carrier (during)",
            ", ".join(
                f"{s['carrier']} {s['latency']:.2f}"
                for s in sorted(during, key=lambda s: s["carrier"])
            ),
        ),
        (
            "bulk run while clicking",
            f"{first_progress[0]}/{first_progress[1]} at the first click, "
            f"{last_progress[1]}/{last_progress[2]} after the last"
            + (" (still running: every click was during the run)" if still_running else ""),
        ),
    ]
    if progress["wall"] is not None:
        rows.append(("bulk run wall", f"{progress['wall']:.1f} s ({progress['run'].state})"))
    failed = [s for s in idle + during if s["state"] != "succeeded"]
    if failed:
        rows.append(("not succeeded", ", ".join(f"{s['carrier']} {s['state']}" for s in failed)))
    return rows


def main() -> None:
    args = parse_args()
    setup = c.setup_from_args(args)
    env, log_dir = setup.env, setup.log_dir
    db_kind = c.prepare_database(args.database_url)
    c.reset_redis(args.redis_url)
    bulk_store, singles = seed_phase(args)
    fan_out = c.fan_out_width()
    with c.Subprocesses() as procs:
        procs.sandbox(setup.sandbox_port, args.latency_ms, env, log_dir / "sandbox-single.log")
        worker = procs.worker(env, args.concurrency, log_dir / "worker-single.log")
        print(f"worker ready (pid {worker.pid}); {args.idle_clicks} idle clicks", flush=True)
        analyzer = c.AutoAnalyze().start()
        idle = idle_clicks_phase(args, singles)
        run_id, t0, run = start_bulk_phase(bulk_store)
        first_progress = (run.done, run.total)
        during = clicks_during_bulk_phase(args, singles, run_id, run.total)
        run, last_progress, bulk_wall = bulk_end_phase(args, run_id, t0)
        analyzer.stop()

    progress = {
        "first": first_progress,
        "last": last_progress,
        "run": run,
        "wall": bulk_wall,
        "fan_out": fan_out,
    }
    rows = report_rows(args, db_kind, analyzer.note(), {"idle": idle, "during": during}, progress)
    print("\nSingle resync during a bulk run")
    print(c.table(rows))
    print(f"\ncommand: {c.command_line()}")


if __name__ == "__main__":
    main()
