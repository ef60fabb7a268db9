"""Bulk resync benchmark: one store, N shipments, the `60d` window, a real Celery worker.

    .venv/bin/python bench/bulk_resync.py [--shipments 10000] [--latency-ms 100] [--concurrency 2]
        [--database-url sqlite:///…|postgres://…] [--redis-url redis://127.0.0.1:6379/9]
        [--carrier-concurrency N] [--ceiling-seconds 5] [--no-ceiling]

Seeds the store (six demo carriers, round-robin, all shipped inside the window), starts the
carrier sandbox at --latency-ms and `celery -A resync_site worker --concurrency N`, clicks
"Last 60 days" through `services.store_bulk_resync` and waits for the run to finish. Then, in the
same run: SQL queries per chunk (`services.sync_chunk` on one chunk of each carrier, in this
process, against the same sandbox), the worker's peak RSS, and the sandbox's own ceiling
(its DHL endpoint and FedEx's batch endpoint, 30 numbers a request, hammered at the same
latency by as many clients as the worker keeps in flight, and at 0 ms by 16 threads). Prints figures; asserts nothing.

Also printed, to read the wall time on a shared machine: the pool's busy time (from the worker's
log), when each carrier's shipments were done, and the CPU seconds of the worker, the sandbox and
every other process on the machine during the run (/proc). --py-spy DIR records raw profiles of
the pool children and the sandbox (py-spy is not a requirement: `.venv/bin/pip install py-spy`).
On a PostgreSQL server with autovacuum off, the tables are ANALYZEd every 5 s during the run (as
autoanalyze would): without statistics every `shipment_id IN (…)` is a sequential scan.

The default database is a fresh SQLite file under var/bench/. A PostgreSQL database must exist
(e.g. `createdb -h 127.0.0.1 -U postgres resync_bench`); it is emptied first when its name
contains "bench". Redis: db 9 is flushed; any other db only loses the app's keys and queues.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

FINAL_STATES = ("completed", "completed_with_errors", "failed")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--database-url", default=c.default_sqlite_url("bulk_resync.sqlite3"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument(
        "--carrier-concurrency",
        type=int,
        default=None,
        help="CARRIER_MAX_CONCURRENCY for the worker (default: the settings default)",
    )
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--no-ceiling", action="store_true", help="skip the sandbox ceiling")
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        default="",
        help="record py-spy profiles (raw, collapsed stacks) of the worker and sandbox into DIR",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on the run after")
    return parser.parse_args()


def wait_for_run(run_id: int, timeout: float, started: float):
    from django.db import close_old_connections

    from shipments.models import SyncRun

    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 5
    while True:
        close_old_connections()
        run = SyncRun.objects.get(pk=run_id)
        if run.state in FINAL_STATES:
            return run, time.monotonic()
        now = time.monotonic()
        if now > next_report:
            print(
                f"  … {now - started:5.1f} s  {run.state:<9} {run.done:>6}/{run.total}", flush=True
            )
            next_report = now + 5
        if now > deadline:
            raise SystemExit(f"run {run_id} not finished after {timeout:.0f} s: {run.state}")
        time.sleep(0.05)


def _statement(sql: str) -> str:
    """First keyword of a captured query; executemany is logged as "32 times: UPDATE …"."""
    many = re.match(r"(\d+) times: (\w+)", sql)
    if many:
        return f"{many.group(2).upper()}×{many.group(1)}"
    return sql.split(None, 1)[0].upper()


def pool_busy(log: str) -> tuple[int, float, float]:
    """(sync_chunk tasks, seconds they ran in total, longest) from the worker's log."""
    runs = [
        float(m.group(1))
        for m in re.finditer(
            r"Task shipments\.tasks\.sync_chunk\[[^\]]+\] succeeded in ([\d.]+)s", log
        )
    ]
    return len(runs), sum(runs), max(runs, default=0.0)


def carrier_spans(run, t_accept: float) -> list[tuple[str, int, float, float]]:
    """(carrier, items, first and last item finished, seconds after the click)."""
    from django.db.models import Count, Max, Min

    from shipments.models import SyncRunItem

    rows = (
        SyncRunItem.objects.filter(run=run)
        .values("carrier")
        .annotate(n=Count("id"), first=Min("finished_at"), last=Max("finished_at"))
        .order_by("first")
    )
    return [
        (r["carrier"], r["n"], r["first"].timestamp() - t_accept, r["last"].timestamp() - t_accept)
        for r in rows
        if r["first"] is not None
    ]


def measure_chunks(store, label: str) -> list[dict]:
    """`services.sync_chunk` on the first chunk of each carrier of `store`, in this process, as
    part of a bulk run (so run accounting is included), queries captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shipments import services
    from shipments.models import RequestSource, RunState, Shipment, SyncRun, SyncRunItem

    rows = Shipment.objects.filter(store=store).order_by("id").values_list("id", "carrier")
    first: dict[str, list[int]] = {}
    for carrier, ids in services.chunk_by_carrier(rows):
        first.setdefault(carrier, ids)
    run = SyncRun.objects.create(
        store=store,
        window="60d",
        source=RequestSource.CLI,
        state=RunState.RUNNING,
        total=sum(len(ids) for ids in first.values()),
    )
    SyncRunItem.objects.bulk_create(
        [
            SyncRunItem(run=run, shipment_id=sid, carrier=carrier)
            for carrier, ids in first.items()
            for sid in ids
        ]
    )
    measured = []
    for carrier in c.DEMO_CARRIERS:
        ids = first.get(carrier)
        if not ids:
            continue
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            plan = services.sync_chunk(run_id=run.pk, carrier=carrier, shipment_ids=ids)
            elapsed = time.perf_counter() - started
        kinds = Counter(_statement(q["sql"]) for q in ctx.captured_queries)
        measured.append(
            {
                "label": label,
                "carrier": carrier,
                "size": len(ids),
                "queries": len(ctx.captured_queries),
                "kinds": kinds,
                "sql_s": sum(float(q["time"]) for q in ctx.captured_queries),
                "elapsed_s": elapsed,
                "retries": len(plan.retry_ids),
            }
        )
    return measured


def ceiling(sandbox, clients: int, seconds: float, procs: c.Subprocesses, env, log_dir) -> dict:
    """Requests/s the sandbox answers: DHL (one number a request) and FedEx (a batch of 30)."""
    from shipments.carriers.numbers import example_number

    dhl = [example_number("dhl", 900_000 + i) for i in range(500)]
    fedex = [example_number("fedex", 900_000 + i) for i in range(500)]
    figures = {}
    for label, url, threads in (
        (f"{sandbox.latency_ms} ms", sandbox.url, clients),
        ("0 ms", None, 16),
    ):
        if url is None:
            zero = procs.sandbox(c.free_port(), 0, env, log_dir / "sandbox-0ms.log")
            url = zero.url
        dhl_rate, _, dhl_err = c.hammer(threads, seconds, c.dhl_call(url, dhl))
        batch_rate, _, batch_err = c.hammer(threads, seconds, c.fedex_call(url, fedex, 30))
        figures[label] = (threads, dhl_rate, dhl_err, batch_rate, batch_err)
    return figures


@dataclass
class Measured:
    """What the bulk run measured, from the click to the worker's stop."""

    run: Any = None
    accept_s: float = 0.0
    wall_poll: float = 0.0
    wall_db: float = 0.0
    stats_before: dict = field(default_factory=dict)
    stats_after: dict = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # worker, sandbox, other, busy, elapsed
    rss_summary: str = ""
    pool: tuple[int, float, float] = (0, 0.0, 0.0)  # tasks, busy seconds, longest
    spans: list = field(default_factory=list)
    note: str = ""


def seed_phase(args) -> tuple[Any, Any]:
    """The store of the bulk run and a small probe store (first pulls)."""
    t = time.monotonic()
    store = c.seed_store("bench-bulk", args.shipments)
    seed_s = time.monotonic() - t
    probe = c.seed_store("bench-probe", 6 * 64, number_offset=500_000)
    in_window = c.window_count(store)
    print(f"seeded {args.shipments} shipments ({in_window} in 60d) in {seed_s:.1f} s", flush=True)
    return store, probe


def profile_phase(args, worker_pids: list[int], sandbox) -> c.PySpy | None:
    """py-spy on the pool children and the sandbox, with --py-spy."""
    if not args.py_spy:
        return None
    spy = c.PySpy(Path(args.py_spy))
    for pid in worker_pids[1:]:
        spy.record(f"worker-child-{pid}", pid)
    spy.record("sandbox", sandbox.pid)
    time.sleep(1)
    return spy


def click_and_wait_phase(args, store, m: Measured) -> float:
    """`services.store_bulk_resync` of the 60d window, then the run polled to its end; returns
    the wall-clock time of the click."""
    from shipments import services
    from shipments.models import RequestSource

    t_accept = time.time()
    started = time.monotonic()
    verdict = services.store_bulk_resync(
        store=store, window="60d", source=RequestSource.CLI, force=True
    )
    m.accept_s = time.monotonic() - started
    if not verdict.accepted:
        raise SystemExit(f"bulk resync refused: {verdict.reason}")
    m.run, finished = wait_for_run(verdict.run.pk, args.timeout, started)
    m.wall_poll = finished - started
    m.wall_db = m.run.finished_at.timestamp() - t_accept
    return t_accept


def bulk_run_phase(args, procs: c.Subprocesses, sandbox, worker, store) -> Measured:
    """The bulk run with CPU, peak RSS (and py-spy) around it; the worker stopped after."""
    from django.db import close_old_connections

    m = Measured()
    rss = c.PeakRss(worker).start()
    m.stats_before = sandbox.stats()
    worker_pids = [worker.pid, *c.children(worker.pid)]
    cpu_before = (c.cpu_seconds_of(worker_pids), c.cpu_seconds(sandbox.pid))
    machine_before, self_before = c.machine_cpu_seconds(), c.cpu_seconds(os.getpid())
    spy = profile_phase(args, worker_pids, sandbox)
    print(
        f"worker ready (pid {worker.pid}, pool {c.children(worker.pid)}); clicking 60d", flush=True
    )
    analyzer = c.AutoAnalyze().start()
    t_accept = click_and_wait_phase(args, store, m)
    m.stats_after = sandbox.stats()
    cpu_worker = c.cpu_seconds_of(worker_pids) - cpu_before[0]
    cpu_sandbox = c.cpu_seconds(sandbox.pid) - cpu_before[1]
    cpu_self = c.cpu_seconds(os.getpid()) - self_before
    machine_after = c.machine_cpu_seconds()
    busy = machine_after[0] - machine_before[0]
    m.cpu = {
        "worker": cpu_worker,
        "sandbox": cpu_sandbox,
        "busy": busy,
        "elapsed": machine_after[1] - machine_before[1],
        "other": busy - cpu_worker - cpu_sandbox - cpu_self,
    }
    if spy:
        spy.stop()
    analyzer.stop()
    m.note = analyzer.note()
    rss.stop()
    m.rss_summary = rss.summary()
    procs.stop(worker)
    m.pool = pool_busy(worker.output())
    m.spans = carrier_spans(m.run, t_accept)
    close_old_connections()
    run = m.run
    print(f"run {run.pk} {run.state}: {run.done}/{run.total} in {m.wall_db:.2f} s", flush=True)
    return m


def setup_rows(args, db_kind: str, m: Measured, fan_out: int) -> list[tuple[str, str]]:
    """What was measured: database, sizes, latency, worker."""
    from django.conf import settings

    run = m.run
    in_flight = args.concurrency * fan_out
    return [
        ("database", f"{db_kind} ({settings.DATABASES['default']['NAME']}); {m.note}"),
        ("shipments / window", f"{run.total} in 60d ({args.shipments} seeded)"),
        ("sandbox latency", f"{args.latency_ms} ms"),
        (
            "worker",
            f"--concurrency {args.concurrency}, fan-out {fan_out} per track() "
            f"→ up to {in_flight} requests in flight; chunks: " + c.chunk_sizes(),
        ),
    ]


def result_rows(args, m: Measured) -> list[tuple[str, str]]:
    """The figures of the run itself."""
    run, wall_db = m.run, m.wall_db
    requests_made = m.stats_after["requests"] - m.stats_before["requests"]
    by_carrier = {
        k: v - m.stats_before["by_carrier"].get(k, 0)
        for k, v in m.stats_after["by_carrier"].items()
    }
    tokens = sum(m.stats_after["token_requests"].values()) - sum(
        m.stats_before["token_requests"].values()
    )
    tasks, busy_s, longest = m.pool
    cpu = m.cpu
    return [
        (
            "run",
            f"{run.state}: done {run.done}, changed {run.changed}, unchanged {run.unchanged}, "
            f"failed {run.failed}",
        ),
        ("accept (store_bulk_resync)", f"{m.accept_s * 1000:.0f} ms"),
        (
            "wall (accept → finished)",
            f"{wall_db:.2f} s (finished_at) / {m.wall_poll:.2f} s (polled)   target ≤ 30 s: "
            + ("MET" if wall_db <= 30 else "MISSED"),
        ),
        ("throughput", f"{run.total / wall_db:.0f} shipments/s"),
        (
            "carrier HTTP requests",
            f"{requests_made} ({requests_made / wall_db:.0f} req/s; {tokens} token) "
            + ", ".join(f"{k} {v}" for k, v in sorted(by_carrier.items()) if v),
        ),
        (
            "pool busy",
            f"{tasks} sync_chunk tasks ran {busy_s:.1f} s in total (mean "
            f"{busy_s / max(tasks, 1) * 1000:.0f} ms, max {longest * 1000:.0f} ms) = "
            f"{busy_s / (args.concurrency * wall_db) * 100:.0f}% of {args.concurrency} processes",
        ),
        (
            "carriers (items done at, s)",
            ", ".join(f"{k} {n} @ {a:.1f}–{b:.1f}" for k, n, a, b in m.spans),
        ),
        ("worker peak RSS (VmHWM)", m.rss_summary),
        (
            "CPU during the run",
            f"worker {cpu['worker']:.1f} s ({cpu['worker'] / run.total * 1000:.2f} ms per "
            f"shipment), sandbox {cpu['sandbox']:.1f} s "
            f"= {(cpu['worker'] + cpu['sandbox']) / wall_db * 100:.0f}% of one core; machine busy "
            f"{cpu['busy'] / cpu['elapsed'] * 100:.0f}% of {os.cpu_count()} cores, other "
            f"processes {cpu['other']:.1f} s",
        ),
    ]


def chunk_rows(chunks: list[dict]) -> list[tuple[str, str]]:
    rows = []
    for m in chunks:
        kinds = " ".join(f"{k} {v}" for k, v in m["kinds"].most_common())
        rows.append(
            (
                f"SQL/chunk {m['label']}: {m['carrier']}",
                f"{m['queries']:>2} queries for {m['size']} shipments ({kinds}); "
                f"SQL {m['sql_s'] * 1000:.0f} ms of {m['elapsed_s'] * 1000:.0f} ms",
            )
        )
    return rows


def ceiling_rows(args, figures: dict, m: Measured) -> list[tuple[str, str]]:
    rows = []
    for label, (threads, dhl_rate, dhl_err, batch_rate, batch_err) in figures.items():
        rows.append(
            (
                f"sandbox ceiling @ {label}",
                f"{threads} clients: DHL {dhl_rate:.0f} req/s, FedEx ×30 {batch_rate:.0f} req/s"
                + (f" ({dhl_err + batch_err} errors)" if dhl_err + batch_err else ""),
            )
        )
    if figures:
        requests_made = m.stats_after["requests"] - m.stats_before["requests"]
        threads, dhl_rate, *_ = figures[f"{args.latency_ms} ms"]
        rows.append(
            (
                "→ sandbox-bound floor",
                f"{requests_made} requests at {dhl_rate:.0f} req/s = "
                f"{requests_made / dhl_rate:.1f} s if {threads} were always in flight",
            )
        )
    return rows


def main() -> None:
    args = parse_args()
    setup = c.setup_from_args(args)
    db_kind = c.prepare_database(args.database_url)
    c.reset_redis(args.redis_url)
    store, probe = seed_phase(args)
    fan_out = c.fan_out_width()
    with c.Subprocesses() as procs:
        sandbox = procs.sandbox(
            setup.sandbox_port, args.latency_ms, setup.env, setup.log_dir / "sandbox.log"
        )
        worker = procs.worker(setup.env, args.concurrency, setup.log_dir / "worker-bulk.log")
        measured = bulk_run_phase(args, procs, sandbox, worker, store)
        # First pull (new events to insert) on a small probe store, then a re-pull of chunks the
        # bulk run has just synced.
        chunks = measure_chunks(probe, "first pull") + measure_chunks(store, "re-pull")
        figures = {}
        if not args.no_ceiling:
            print("measuring the sandbox ceiling …", flush=True)
            in_flight = args.concurrency * fan_out
            figures = ceiling(
                sandbox, in_flight, args.ceiling_seconds, procs, setup.env, setup.log_dir
            )

    from shipments.models import SyncRun

    measured.run = SyncRun.objects.get(pk=measured.run.pk)
    rows = setup_rows(args, db_kind, measured, fan_out) + result_rows(args, measured)
    rows += chunk_rows(chunks)
    rows += ceiling_rows(args, figures, measured)
    print("\nBulk resync benchmark")
    print(c.table(rows))
    print(f"\ncommand: {c.command_line()}")


if __name__ == "__main__":
    main()
