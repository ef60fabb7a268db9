"""Drill: a click storm on both resync buttons at once.

    .venv/bin/python drills/click_storm.py [--quick] [--sqlite]

100 shoppers (threads, each with its own session and CSRF cookie) POST /track/<token>/resync/ for
one shipment, and 50 signed-in merchants POST /app/shipments/resync/ for one store, all released
by one barrier. Checks: exactly one 202 for each; every refusal is 429 with Retry-After >= 1;
exactly one job and one run in the database, and one accepted audit row each; the job and the run
then finish on the real worker.

The public resync is also limited per IP (TRACK_RESYNC_RATE_PER_IP, counted with the cooldown);
every shopper here comes from 127.0.0.1, so the drill raises that limit to measure the cooldown.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from _drill import (
    Browser,
    Drill,
    DrillFailed,
    Seeded,
    arguments,
    main,
    retry_after_of,
    wait_until,
)

SHOPPERS, MERCHANTS = 100, 50
QUICK_SHOPPERS, QUICK_MERCHANTS = 100, 20
IP_RATE = "100000/h"


@dataclass
class Answer:
    who: str
    status: int
    retry_after: int | None
    body: dict
    elapsed: float


def storm(
    label: str, users: list[tuple[Browser, str, dict]], barrier: threading.Barrier
) -> tuple[list[Answer], list[threading.Thread]]:
    """One thread per user: each waits at `barrier`, then POSTs once."""
    answers: list[Answer] = [Answer(label, 0, None, {"error": "no answer"}, 0.0)] * len(users)

    def click(i: int) -> None:
        browser, path, data = users[i]
        barrier.wait(timeout=60)
        started = time.monotonic()
        try:
            response = browser.post(path, data)
            try:
                body = response.json()
            except ValueError:
                body = {"text": response.text[:200]}
            answer = Answer(label, response.status_code, retry_after_of(response), body, 0.0)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed click
            answer = Answer(label, 0, None, {"error": repr(exc)}, 0.0)
        answer.elapsed = time.monotonic() - started
        answers[i] = answer

    threads = [threading.Thread(target=click, args=(i,), daemon=True) for i in range(len(users))]
    for thread in threads:
        thread.start()
    return answers, threads


def judge(report, label: str, answers: list[Answer], expected: int) -> None:
    statuses: dict[int, int] = {}
    for answer in answers:
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    refusals = [a for a in answers if a.status != 202]
    report.check(
        f"{label}: {expected} clicks answered, exactly one 202",
        len(answers) == expected and statuses.get(202, 0) == 1,
        f"statuses {dict(sorted(statuses.items()))}",
    )
    bad = [
        a
        for a in refusals
        if a.status != 429
        or a.retry_after is None
        or a.retry_after < 1
        or a.body.get("retry_after") != a.retry_after
    ]
    waits = sorted({a.retry_after for a in refusals if a.retry_after is not None})
    report.check(
        f"{label}: every refusal is 429 with Retry-After >= 1 (header == JSON retry_after)",
        not bad and len(refusals) == expected - 1,
        f"{len(refusals)} refusals, Retry-After values {waits[:3]}…{waits[-3:]}"
        + (f"; bad: {[(a.status, a.retry_after, a.body) for a in bad[:3]]}" if bad else ""),
    )
    slowest = max(a.elapsed for a in answers)
    report.step(f"{label}: slowest answer {slowest:.2f}s")


def start_phase(d: Drill, merchants: int) -> Seeded:
    """Redis, database, 60 shipments and the merchants, then sandbox, web and one worker."""
    d.start_redis()
    d.migrate()
    seeded = d.seed(shipments=60, merchants=merchants)
    d.start_stack(latency_ms=50, concurrency=2, beat=False)
    d.report.step(
        f"per-IP limit on the public resync raised to TRACK_RESYNC_RATE_PER_IP={IP_RATE} "
        "(every shopper here is 127.0.0.1): the shared 5-minute cooldown is what is measured"
    )
    return seeded


def open_sessions_phase(
    d: Drill, seeded: Seeded, token_path: str, shoppers: int
) -> tuple[list[Browser], list[Browser]]:
    """Shoppers open the tracking page (their own session and CSRF cookie), merchants sign in."""

    def shopper(_: int) -> Browser:
        browser = Browser(d.web_url)
        page = browser.get(token_path)
        if page.status_code != 200 or "csrftoken" not in browser.session.cookies:
            raise DrillFailed(f"tracking page: HTTP {page.status_code}, no csrftoken cookie")
        return browser

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        shopper_browsers = list(pool.map(shopper, range(shoppers)))
        merchant_browsers = list(pool.map(d.merchant, seeded.merchants))
    d.report.step(
        f"{shoppers} shoppers opened the tracking page, {len(merchant_browsers)} merchants "
        f"signed in ({time.monotonic() - started:.1f}s)"
    )
    return shopper_browsers, merchant_browsers


def storm_phase(
    d: Drill, shoppers: list[Browser], merchants: list[Browser], token_path: str
) -> tuple[list[Answer], list[Answer]]:
    """Every shopper and every merchant clicks once, all released by one barrier; judged."""
    users = [(b, f"{token_path}resync/", {}) for b in shoppers]
    bosses = [(b, "/app/shipments/resync/", {"window": "7d"}) for b in merchants]
    barrier = threading.Barrier(len(shoppers) + len(merchants))
    fired = time.monotonic()
    shopper_answers, threads1 = storm("shoppers", users, barrier)
    merchant_answers, threads2 = storm("merchants", bosses, barrier)
    for thread in threads1 + threads2:
        thread.join(timeout=90)
    if any(thread.is_alive() for thread in threads1 + threads2):
        raise DrillFailed("some clicks got no answer within 90 s")
    d.report.step(
        f"{len(shoppers) + len(merchants)} POSTs released at once, all answered in "
        f"{time.monotonic() - fired:.2f}s"
    )
    judge(
        d.report,
        f"shoppers ({len(shoppers)} × POST /track/<token>/resync/)",
        shopper_answers,
        len(shoppers),
    )
    judge(
        d.report,
        f"merchants ({len(merchants)} × POST /app/shipments/resync/)",
        merchant_answers,
        len(merchants),
    )
    reasons = sorted({a.body.get("reason", "") for a in merchant_answers if a.status == 429})
    d.report.step(f"merchant refusal reasons: {reasons}")
    return shopper_answers, merchant_answers


def verify_database_phase(d: Drill, seeded: Seeded, shipment, shoppers: int, merchants: int):
    """One job, one run, and an audit row for every click with one accepted each."""
    from shipments.models import ResyncJob, ResyncRequest, SyncRun

    report = d.report
    jobs = ResyncJob.objects.filter(shipment=shipment)
    runs = SyncRun.objects.filter(store_id=seeded.store_id)
    report.check("exactly one resync job in the database", jobs.count() == 1, f"{jobs.count()}")
    report.check("exactly one sync run in the database", runs.count() == 1, f"{runs.count()}")
    # Shoppers' refusals are counted in Redis and written as one row per client, reason and
    # minute (request_count): write the minutes now, then count requests, not rows.
    from django.db.models import Sum

    from shipments.services import resync_refusals_flush

    resync_refusals_flush(now=time.time() + 120)
    single = ResyncRequest.objects.filter(shipment=shipment, kind="single")
    bulk = ResyncRequest.objects.filter(store_id=seeded.store_id, kind="bulk")
    single_clicks = single.aggregate(n=Sum("request_count"))["n"] or 0
    bulk_clicks = bulk.aggregate(n=Sum("request_count"))["n"] or 0
    report.check(
        "audit: every click recorded, one accepted each",
        single_clicks == shoppers
        and single.filter(accepted=True).count() == 1
        and bulk_clicks == merchants
        and bulk.filter(accepted=True).count() == 1,
        f"single {single.filter(accepted=True).count()}/{single_clicks} accepted "
        f"({single.count()} rows), bulk {bulk.filter(accepted=True).count()}/{bulk_clicks} accepted",
    )
    return jobs, runs


def worker_finishes_phase(d: Drill, seeded: Seeded, jobs, runs) -> None:
    """The one job and the one run finish on the real worker."""
    from shipments.models import ResyncJob

    job = wait_until(
        lambda: (j := ResyncJob.objects.get(pk=jobs.get().pk)).is_finished and j,
        timeout=60,
        what="the shopper's job to finish",
    )
    d.report.check(
        "the one job succeeded on the worker",
        job.state == "succeeded",
        f"{job.state}: {job.message}",
    )
    run = d.wait_run_finished(runs.get().pk, timeout=120)
    d.check_run_exact(run.pk, expected_total=len(seeded.shipment_ids))


def cooldown_holds_phase(d: Drill, shopper: Browser, token_path: str) -> None:
    """After the storm: the cooldown holds, and the IP limit did not answer."""
    again = shopper.post(f"{token_path}resync/")
    d.report.check(
        "a later shopper click is still refused by the cooldown (429, reason cooldown)",
        again.status_code == 429 and again.json().get("reason") == "cooldown",
        f"HTTP {again.status_code} {again.json().get('reason')} Retry-After "
        f"{again.headers.get('Retry-After')}",
    )


def drill(d: Drill) -> None:
    shoppers = QUICK_SHOPPERS if d.args.quick else SHOPPERS
    merchants = QUICK_MERCHANTS if d.args.quick else MERCHANTS
    seeded = start_phase(d, merchants)

    from shipments.models import Shipment

    shipment = Shipment.objects.get(pk=seeded.shipment_ids[0])
    token_path = f"/track/{shipment.public_token}/"
    shopper_browsers, merchant_browsers = open_sessions_phase(d, seeded, token_path, shoppers)
    storm_phase(d, shopper_browsers, merchant_browsers, token_path)
    jobs, runs = verify_database_phase(d, seeded, shipment, shoppers, merchants)
    worker_finishes_phase(d, seeded, jobs, runs)
    cooldown_holds_phase(d, shopper_browsers[0], token_path)
    for browser in shopper_browsers + merchant_browsers:
        browser.close()
    d.check_no_tracebacks(*[s for s in d.services if s.name in ("web", "worker1")])


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0])
    sys.exit(main(drill, Drill("click_storm", args, TRACK_RESYNC_RATE_PER_IP=IP_RATE)))
