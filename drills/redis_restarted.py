"""Drill: Redis (cooldowns, rate limits and the Celery broker) goes away during a bulk run.

    .venv/bin/python drills/redis_restarted.py [--quick] [--sqlite] [-n 2000]

A merchant starts a bulk run; shoppers and merchants keep clicking and browsing. At about 30 %
the drill's own Redis is killed; while it is down: the resync endpoints answer 503 with
Retry-After within 1 s, the tracking page and the merchant pages keep serving 200 from the
database, /healthz answers 503 naming redis. Redis is then started again, empty (no RDB/AOF: the
queued messages are gone), and nothing is restarted by hand: the web recovers, the workers
reconnect on their own, the reconciler resumes the run, and the run completes with exact counts
and no duplicate events.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from _drill import (
    Browser,
    Drill,
    DrillFailed,
    Process,
    Seeded,
    arguments,
    background,
    main,
    retry_after_of,
    wait_until,
)

FULL_N, QUICK_N = 2000, 600
IP_RATE = "100000/h"


@dataclass
class Sample:
    started: float
    ended: float
    who: str
    kind: str  # resync | page | health
    what: str
    status: int  # 0: no answer (connection error or timeout)
    retry_after: int | None
    detail: str


class Recorder:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def call(self, who: str, kind: str, what: str, send) -> Sample:
        started = time.monotonic()
        try:
            response = send()
            status, retry_after = response.status_code, retry_after_of(response)
            detail = response.text[:300] if status >= 400 and kind != "page" else ""
        except Exception as exc:  # noqa: BLE001 - a click without answer is recorded as such
            status, retry_after, detail = 0, None, repr(exc)[:300]
        sample = Sample(started, time.monotonic(), who, kind, what, status, retry_after, detail)
        with self._lock:
            self.samples.append(sample)
        return sample

    def between(self, start: float, end: float, kind: str | None = None) -> list[Sample]:
        with self._lock:
            return [
                s
                for s in self.samples
                if s.started >= start and s.ended <= end and (kind is None or s.kind == kind)
            ]


def clicker(rec: Recorder, who: str, actions, pause: float = 0.1):
    def loop(stop: threading.Event) -> None:
        i = 0
        while not stop.is_set():
            for kind, what, send in actions(i):
                if stop.is_set():
                    return
                rec.call(who, kind, what, send)
                time.sleep(pause)
            i += 1

    return loop


def summary(samples: list[Sample]) -> str:
    counts: dict[tuple[str, int], int] = {}
    for s in samples:
        counts[(s.what, s.status)] = counts.get((s.what, s.status), 0) + 1
    return ", ".join(f"{what} {status}×{n}" for (what, status), n in sorted(counts.items()))


@dataclass
class People:
    """Who clicks and browses during the drill, each with a session of their own."""

    owner: Browser  # the merchant who starts the run
    shopper: Browser
    shopper2: Browser
    details: Browser  # a merchant on shipment details pages
    tab: Browser  # a merchant on the shipments list
    health: Browser  # a load balancer's probe
    tokens: list[tuple[int, str]]  # (shipment id, public token) of 200 shipments


@dataclass
class Outage:
    """When Redis went away and came back (monotonic), and the run at those moments."""

    t_stop: float = 0.0
    t_restart: float = 0.0
    at_restart: Any = None
    late_job: Any = None
    final: Any = None


def start_phase(d: Drill) -> tuple[Process, Seeded, dict[str, Process], list[Process]]:
    """Redis, database, seed data, the stack, and a second worker for single resyncs."""
    redis = d.start_redis()
    d.migrate()
    seeded = d.seed(shipments=d.args.shipments + 1, merchants=3)
    stack = d.start_stack(latency_ms=50, concurrency=2)
    # A second worker for people's single resyncs (a usual scale-out): at the moment Redis dies it
    # runs one job and has a free process waiting on the broker.
    workers = [
        stack["worker1"],
        d.start_worker("interactive1", concurrency=4, queues="interactive"),
    ]
    d.report.step(f"settings: {d.describe_settings()}")
    return redis, seeded, stack, workers


def slow_shipment_phase(seeded: Seeded) -> tuple[int, str]:
    """One shipment outside the run's window (shipped 20 days ago): the merchant's single
    resync of it hangs at the carrier once (5 s > CARRIER_READ_TIMEOUT), so it is running at
    the kill."""
    from django.utils import timezone

    from shipments.models import Shipment

    slow_sid = seeded.shipment_ids[-1]
    Shipment.objects.filter(pk=slow_sid).update(
        shipped_at=timezone.now() - timezone.timedelta(days=20)
    )
    return slow_sid, Shipment.objects.get(pk=slow_sid).tracking_number


def people_phase(d: Drill, seeded: Seeded) -> People:
    """Sessions for the owner, two shoppers, two more merchants and the health probe."""
    from shipments.models import Shipment

    tokens = list(
        Shipment.objects.filter(pk__in=seeded.shipment_ids[:200])
        .order_by("pk")
        .values_list("pk", "public_token")
    )
    owner = d.merchant(seeded.merchants[0])
    shopper = Browser(d.web_url)
    shopper.get(f"/track/{tokens[0][1]}/")
    shopper2 = Browser(d.web_url)
    shopper2.get(f"/track/{tokens[1][1]}/")
    details = d.merchant(seeded.merchants[1])
    tab = d.merchant(seeded.merchants[2])
    return People(owner, shopper, shopper2, details, tab, Browser(d.web_url), tokens)


def shopper_actions(p: People, i: int):
    _, token = p.tokens[(2 * i) % len(p.tokens)]
    return [
        ("resync", "POST /track/<t>/resync/", lambda: p.shopper.post(f"/track/{token}/resync/")),
        ("page", "GET /track/<t>/", lambda: p.shopper.get(f"/track/{token}/")),
    ]


def shopper2_actions(p: People, i: int):
    _, token = p.tokens[(2 * i + 1) % len(p.tokens)]
    return [
        ("page", "GET /track/<t>/ json", lambda: p.shopper2.get(f"/track/{token}/", json_=True)),
        ("resync", "POST /track/<t>/resync/", lambda: p.shopper2.post(f"/track/{token}/resync/")),
    ]


def details_actions(p: People, i: int):
    sid, _ = p.tokens[(i * 7 + 3) % len(p.tokens)]
    path = f"/app/shipments/{sid}/"
    return [
        ("resync", "POST /app/shipments/<id>/resync/", lambda: p.details.post(f"{path}resync/")),
        ("page", "GET /app/shipments/<id>/", lambda: p.details.get(path)),
        ("page", "GET /app/shipments/<id>/ json", lambda: p.details.get(path, json_=True)),
    ]


def tab_actions(p: People, run_id: int, i: int):
    return [
        (
            "resync",
            "POST /app/shipments/resync/",
            lambda: p.tab.post("/app/shipments/resync/", {"window": "7d"}),
        ),
        ("page", "GET /app/shipments/", lambda: p.tab.get("/app/shipments/")),
        ("page", "GET /app/shipments/ json", lambda: p.tab.get("/app/shipments/", json_=True)),
        (
            "page",
            "GET /app/sync-runs/<id>/ json",
            lambda: p.tab.get(f"/app/sync-runs/{run_id}/", json_=True),
        ),
    ]


def health_actions(p: People, i: int):
    return [("health", "GET /healthz", lambda: p.health.get("/healthz", json_=True))]


def clickers(rec: Recorder, p: People, run_id: int) -> list:
    """Background loops: shoppers and merchants clicking and browsing, /healthz probed."""
    return [
        background(clicker(rec, "shopper", partial(shopper_actions, p)), name="shopper"),
        background(clicker(rec, "shopper2", partial(shopper2_actions, p)), name="shopper2"),
        background(clicker(rec, "details", partial(details_actions, p)), name="details"),
        background(clicker(rec, "tab", partial(tab_actions, p, run_id)), name="tab"),
        background(clicker(rec, "health", partial(health_actions, p), pause=0.25), name="health"),
    ]


def late_job_phase(d: Drill, owner: Browser, slow_sid: int, slow_number: str) -> Any:
    """A single resync accepted a moment before Redis dies, still running at the carrier."""
    from shipments.models import ResyncJob

    d.sandbox.fault(slow_number, "hang", seconds=5, times=1)
    response = owner.post(f"/app/shipments/{slow_sid}/resync/")
    d.report.check(
        "a merchant's single resync is accepted just before Redis dies (202)",
        response.status_code == 202,
        f"HTTP {response.status_code}",
    )
    late_job = response.json().get("job") if response.status_code == 202 else None
    if late_job:
        with contextlib.suppress(DrillFailed):
            wait_until(
                lambda: ResyncJob.objects.get(pk=late_job).state == "running",
                timeout=10,
                what="the job to run",
                interval=0.05,
            )
        d.report.step(f"job {late_job}: {ResyncJob.objects.get(pk=late_job).state}")
    return late_job


def redis_outage_phase(d: Drill, redis: Process, run_id: int, run: Any, out: Outage) -> None:
    """`kill -9` Redis, wait the outage out, start it again on the same port, empty."""
    outage = 6.0 if d.args.quick else 12.0
    redis.kill()
    out.t_stop = time.monotonic()
    d.report.step(f"Redis killed (kill -9) at {run.done}/{run.total}; down for {outage:.0f}s")
    time.sleep(outage / 2)
    mid = d.run_row(run_id)
    d.report.step(f"halfway through the outage: run {mid.state} {mid.done}/{mid.total}")
    time.sleep(outage / 2)
    out.t_restart = time.monotonic()
    out.at_restart = d.run_row(run_id)
    # The same port, the same (empty) configuration: no RDB, no AOF.
    d.start_redis(describe=f"redis-server restarted, empty, on 127.0.0.1:{d.redis_port}")


def web_recovers_phase(d: Drill, rec: Recorder, t_restart: float) -> None:
    """/healthz answers 200 again after the restart."""
    wait_until(
        lambda: (s := rec.between(t_restart, time.monotonic(), "health")) and s[-1].status == 200,
        timeout=30,
        what="/healthz to answer 200 again",
    )
    healthy_at = min(
        s.ended for s in rec.between(t_restart, time.monotonic(), "health") if s.status == 200
    )
    d.report.step(f"/healthz 200 again {healthy_at - t_restart:.1f}s after the restart")


def workers_reconnect_phase(d: Drill, workers: list[Process]) -> None:
    """Each worker reconnects on its own (Celery retries the broker every 2, 4, 6… s); one that
    did not is replaced, as a process supervisor would, so the rest can still be checked."""

    def reconnected(worker: Process) -> bool:
        return worker.running() and worker.output().count("Connected to redis") >= 2

    with contextlib.suppress(DrillFailed):
        wait_until(
            lambda: all(reconnected(w) or not w.running() for w in workers),
            timeout=20,
            what="the workers to reconnect",
        )
    for i, worker in enumerate(list(workers)):
        crash = [line for line in worker.output().splitlines() if "Unrecoverable error" in line]
        if d.report.check(
            f"worker {worker.name!r} survived the outage and reconnected on its own",
            reconnected(worker),
            f"pid {worker.pid} {'alive' if worker.running() else 'EXITED'}"
            + (f"; {crash[0].split(' [-] ')[-1][:160]} — see {worker.log}" if crash else ""),
        ):
            continue
        worker.stop()
        queues = "interactive" if worker.name.startswith("interactive") else None
        workers[i] = d.start_worker(worker.name + "-replacement", queues=queues)


def outage_under_load_phase(
    d: Drill, redis: Process, workers: list[Process], rec: Recorder, p: People, run_id: int,
    slow: tuple[int, str],
) -> Outage:  # fmt: skip
    """While everyone clicks: Redis dies at 30 % of the run and comes back; the run finishes."""
    out = Outage()
    with contextlib.ExitStack() as stack:
        for loop in clickers(rec, p, run_id):
            stack.enter_context(loop)
        target = math.ceil(0.3 * d.args.shipments)
        run = d.wait_run_done(
            run_id,
            target,
            timeout=180 if not d.args.quick else 60,
            what=f"run {run_id} to reach 30 %",
        )
        before = rec.between(0, time.monotonic())
        d.report.step(
            f"clicking while the run goes ({len(before)} requests so far: {summary(before)})"
        )
        out.late_job = late_job_phase(d, p.owner, *slow)
        redis_outage_phase(d, redis, run_id, run, out)
        web_recovers_phase(d, rec, out.t_restart)
        workers_reconnect_phase(d, workers)
        out.final = d.wait_run_finished(run_id, timeout=240 if not d.args.quick else 90)
        d.report.step(
            f"run {run_id} {out.final.state} {time.monotonic() - out.t_restart:.1f}s "
            "after the restart"
        )
    return out


def verify_outage_phase(d: Drill, rec: Recorder, out: Outage) -> None:
    """While Redis was down: resyncs 503 fast, pages 200, /healthz 503 naming redis."""
    report = d.report
    down = (out.t_stop + 0.5, out.t_restart)
    resyncs = rec.between(*down, kind="resync")
    pages = rec.between(*down, kind="page")
    checks = rec.between(*down, kind="health")
    report.step(f"during the outage: {summary(rec.between(*down))}")
    slow = [s for s in resyncs if s.ended - s.started >= 1.0]
    report.check(
        "Redis down: every resync click answered 503 with Retry-After >= 1",
        bool(resyncs)
        and all(s.status == 503 and (s.retry_after or 0) >= 1 for s in resyncs)
        and {s.what for s in resyncs}
        >= {
            "POST /track/<t>/resync/",
            "POST /app/shipments/<id>/resync/",
            "POST /app/shipments/resync/",
        },
        f"{len(resyncs)} clicks: {summary(resyncs)}",
    )
    report.check(
        "Redis down: each 503 came within 1 s",
        bool(resyncs) and not slow,
        f"slowest {max((s.ended - s.started for s in resyncs), default=0):.3f}s",
    )
    report.check(
        "Redis down: tracking page and merchant pages (HTML and JSON) keep answering 200",
        bool(pages) and all(s.status == 200 for s in pages) and len({s.what for s in pages}) >= 6,
        f"{len(pages)} requests: {summary(pages)}",
    )
    report.check(
        "Redis down: /healthz answers 503 naming redis, within 1 s",
        bool(checks)
        and all(
            s.status == 503 and "redis" in s.detail and s.ended - s.started < 1.0 for s in checks
        ),
        f"{len(checks)} probes; e.g. {checks[0].detail[:160] if checks else '-'}",
    )


def verify_whole_drill_phase(d: Drill, rec: Recorder, t_restart: float) -> None:
    """No 500s or unanswered requests; the resync endpoints answer again after the restart."""
    everything = rec.between(0, time.monotonic())
    errors = [s for s in everything if s.status == 0 or (s.status >= 500 and s.status != 503)]
    d.report.check(
        "no 500s and no unanswered requests during the whole drill",
        not errors,
        f"{len(everything)} requests"
        + (f"; e.g. {[(s.what, s.status, s.detail[:120]) for s in errors[:3]]}" if errors else ""),
    )
    # A process whose Redis circuit breaker opened just before the restart (a timeout while Redis
    # was going down) keeps refusing for one open period (REDIS_BREAKER_OPEN_SECONDS, 5 s, plus
    # up to 20 % jitter) and then tries again: 5 s plus that period is the promise.
    grace = 5 + 1.2 * float(os.environ.get("REDIS_BREAKER_OPEN_SECONDS", "5"))
    late = [s for s in everything if s.status == 503 and s.started > t_restart + grace]
    first_ok = min(
        (s.ended for s in rec.between(t_restart, time.monotonic(), "resync") if s.status != 503),
        default=None,
    )
    d.report.check(
        "after the restart the resync endpoints answer again (no 503 later than 5 s plus one "
        "breaker period after)",
        not late and first_ok is not None,
        (
            f"first non-503 resync answer {first_ok - t_restart:.1f}s after the restart"
            if first_ok
            else ""
        )
        + (f"; late 503s: {summary(late)}" if late else ""),
    )


def verify_one_run_phase(d: Drill, seeded: Seeded, owner: Browser, run_id: int, final) -> None:
    """No second run was accepted; the 1-hour cooldown outlived the empty Redis."""
    from shipments.models import SyncRun

    runs = SyncRun.objects.filter(store_id=seeded.store_id).order_by("pk")
    d.report.check(
        "no second bulk run was accepted while the run was in progress",
        all(r.created_at >= final.finished_at for r in runs if r.pk != run_id),
        f"runs: {[(r.pk, r.state, r.created_at.isoformat(timespec='seconds')) for r in runs]}",
    )
    # Redis came back empty, so its cooldown key is gone; the audit still knows the hour runs.
    again = owner.post("/app/shipments/resync/", {"window": "7d"})
    body = (
        again.json() if again.headers.get("Content-Type", "").startswith("application/json") else {}
    )
    d.report.check(
        "after the run, a new bulk resync is still refused: the 1-hour cooldown outlived the "
        "empty Redis (429 cooldown, ~1 h left)",
        again.status_code == 429
        and body.get("reason") == "cooldown"
        and 3000 < (retry_after_of(again) or 0) <= 3600,
        f"HTTP {again.status_code} {body.get('reason')} Retry-After {again.headers.get('Retry-After')}",
    )
    d.report.check(
        "no other run was accepted at all",
        SyncRun.objects.filter(store_id=seeded.store_id).count() == 1,
        f"{SyncRun.objects.filter(store_id=seeded.store_id).count()} runs",
    )


def verify_run_phase(d: Drill, run_id: int, at_restart: Any) -> None:
    """Exact counts, no failures; the outage hit the run and the reconciler resumed it."""
    run = d.check_run_exact(run_id, expected_total=d.args.shipments)  # the slow one is not in it
    d.report.check(
        "run completed without failures", run.failed == 0, f"{run.state}, failed={run.failed}"
    )
    logs = "".join(s.all_output() for s in d.services if s.name.startswith("worker"))
    resumed = logs.count(f"run {run_id} stalled since")
    d.report.check(
        "the outage hit the run: shipments were still pending when Redis came back",
        at_restart.done < at_restart.total,
        f"{at_restart.done}/{at_restart.total} done at the restart",
    )
    d.report.check(
        "the reconciler resumed the run whose messages Redis lost",
        resumed >= 1,
        f"{resumed} resume(s) logged",
    )


def verify_jobs_phase(d: Drill, late_job: Any, t_quiet: float) -> None:
    """Single resyncs accepted around the outage: no job may hang in `queued` forever."""
    from django.utils import timezone

    from shipments.models import ResyncJob

    cutoff = timezone.now()

    def unfinished():
        return ResyncJob.objects.filter(state__in=("queued", "running"), created_at__lt=cutoff)

    settle = 30.0 if d.args.quick else 45.0
    with contextlib.suppress(DrillFailed):
        wait_until(lambda: not unfinished().exists(), timeout=settle, what="jobs to finish")
    jobs = list(ResyncJob.objects.filter(created_at__lt=cutoff).values_list("state", flat=True))
    d.report.check(
        f"every accepted single resync job finished within {settle:.0f}s of the quiet "
        "(none left queued/running)",
        not unfinished().exists(),
        f"{len(jobs)} jobs: "
        + ", ".join(f"{state} {jobs.count(state)}" for state in sorted(set(jobs))),
    )
    if late_job:
        job = ResyncJob.objects.get(pk=late_job)
        d.report.check(
            "the job accepted just before Redis died did not stay queued",
            job.state in ("succeeded", "failed"),
            f"{job.state} {job.message!r} ({time.monotonic() - t_quiet:.0f}s after the quiet)",
        )


def drill(d: Drill) -> None:
    redis, seeded, stack, workers = start_phase(d)
    slow = slow_shipment_phase(seeded)
    people = people_phase(d, seeded)
    rec = Recorder()
    run_id = d.start_bulk_run(people.owner)
    out = outage_under_load_phase(d, redis, workers, rec, people, run_id, slow)
    t_quiet = time.monotonic()
    verify_outage_phase(d, rec, out)
    verify_whole_drill_phase(d, rec, out.t_restart)
    verify_one_run_phase(d, seeded, people.owner, run_id, out.final)
    verify_run_phase(d, run_id, out.at_restart)
    verify_jobs_phase(d, out.late_job, t_quiet)
    d.check_no_tracebacks(stack["web"])


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], full_n=FULL_N, quick_n=QUICK_N)
    sys.exit(main(drill, Drill("redis_restarted", args, TRACK_RESYNC_RATE_PER_IP=IP_RATE)))
