"""Drill: carriers misbehave in the middle of a bulk run.

    .venv/bin/python drills/carrier_misbehaving.py [--quick] [--sqlite] [-n 1200]

A first bulk run syncs every shipment (the "old data"); the sandbox then adds a checkpoint event
to every number, and a second run starts. As soon as it makes progress the sandbox turns on:

    aftership  429 with `Retry-After: 4` (delta-seconds), once       → paused, then all succeed
    dhl        429 with `Retry-After: <HTTP-date ~7 s ahead>`, always → paused until then, retried
                                                                        CARRIER_MAX_RETRIES times,
                                                                        then failed
    fedex      500, always                                          → retried within bounds, failed
    ups        hangs 5 s (> CARRIER_READ_TIMEOUT=2) for a few numbers → those time out and fail
    17track, usps                                                   → unaffected

Checks: each paused carrier got no request while paused; retries stay within
(1 + CARRIER_MAX_RETRIES) requests per number; the unaffected carriers finish about as fast as in
the first run; failed shipments keep their old status and events and say why (last_sync_error on
the shipment, error on the run item, both in the merchant's JSON); the run's counts are exact.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from _drill import (
    Browser,
    Drill,
    DrillFailed,
    Seeded,
    arguments,
    background,
    http_date,
    main,
    wait_until,
)

FULL_N, QUICK_N = 1200, 600
HEALTHY = ("17track", "usps")
PAUSE_SECONDS = 4  # aftership's Retry-After (delta-seconds)
DATE_AHEAD = 7  # dhl's Retry-After HTTP-date, seconds ahead of the injection
HANG_SECONDS = 5
CHECKPOINT = "Drill checkpoint"


class Sampler:
    """Polls the sandbox's stats and faults every 0.1 s (wall-clock times)."""

    def __init__(self, d: Drill) -> None:
        self.d = d
        self.samples: list[tuple[float, dict, dict]] = []
        self.lock = threading.Lock()

    def __call__(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                stats, faults = self.d.sandbox.stats(), self.d.sandbox.faults()
                with self.lock:
                    self.samples.append((time.time(), stats, faults))
            stop.wait(0.1)

    def requests(self, carrier: str, at: float) -> int:
        """Requests the sandbox had counted for `carrier` by wall time `at` (last sample)."""
        with self.lock:
            count = 0
            for t, stats, _ in self.samples:
                if t > at:
                    break
                count = stats["by_carrier"].get(carrier, 0)
            return count

    def first(self, predicate, *, after: float) -> float | None:
        """Wall time of the last sample before the first one (after `after`) that matches: the
        event happened between the two, so this errs on the early side."""
        with self.lock:
            previous = after
            for t, stats, faults in self.samples:
                if t <= after:
                    continue
                if predicate(stats, faults):
                    return previous
                previous = t
            return None


def finish_offsets(run_id: int) -> dict[str, float]:
    """Seconds from the run's start to the last item of each carrier."""
    from django.db.models import Max

    from shipments.models import SyncRun, SyncRunItem

    run = SyncRun.objects.get(pk=run_id)
    rows = (
        SyncRunItem.objects.filter(run_id=run_id)
        .values("carrier")
        .annotate(last=Max("finished_at"))
        .order_by()
    )
    return {r["carrier"]: (r["last"] - run.started_at).total_seconds() for r in rows}


def snapshot(store_id: int) -> dict[int, tuple[str, frozenset[str]]]:
    from shipments.models import Shipment, TrackingEvent

    events: dict[int, set[str]] = {}
    for sid, fingerprint in TrackingEvent.objects.filter(shipment__store_id=store_id).values_list(
        "shipment_id", "fingerprint"
    ):
        events.setdefault(sid, set()).add(fingerprint)
    return {
        sid: (status, frozenset(events.get(sid, ())))
        for sid, status in Shipment.objects.filter(store_id=store_id).values_list("id", "status")
    }


@dataclass
class Faults:
    """What the second run met, and when (wall-clock times)."""

    run_id: int
    date_until: int  # dhl's Retry-After HTTP-date, as a timestamp
    aftership_armed: float
    dhl_armed: float
    dhl_base: int  # dhl requests the sandbox had counted before its fault
    at_injection: dict[str, int]  # pending items per faulty carrier
    stats_at_injection: dict
    run: Any = None
    took: float = 0.0


def start_phase(d: Drill) -> Seeded:
    """Redis, database, seed data, then sandbox, web, one worker and beat."""
    d.start_redis()
    d.migrate()
    seeded = d.seed(shipments=d.args.shipments)
    d.start_stack(latency_ms=20, concurrency=3)
    d.report.step(f"settings: {d.describe_settings()}")
    return seeded


def first_run_phase(d: Drill, merchant: Browser) -> dict[str, float]:
    """Run 1 without faults: the old data, and each carrier's time to finish."""
    response = merchant.post("/app/shipments/resync/", {"window": "7d"})
    if response.status_code != 202:
        raise DrillFailed(f"first bulk resync: HTTP {response.status_code} {response.text[:200]}")
    first = d.wait_run_finished(response.json()["run"], timeout=120, label="run 1")
    baseline = finish_offsets(first.pk)
    d.report.check(
        "run 1 (no faults) completed without failures",
        first.state == "completed" and first.failed == 0,
        f"{first.state}, {first.done}/{first.total}, failed={first.failed}; last item per "
        "carrier at " + ", ".join(f"{c} {t:.1f}s" for c, t in sorted(baseline.items())),
    )
    return baseline


def checkpoint_phase(d: Drill, seeded: Seeded) -> dict[int, str]:
    """A checkpoint event for every number in the sandbox; the bulk cooldown cleared by ops."""
    from shipments import services
    from shipments.models import Shipment, Store

    numbers = dict(
        Shipment.objects.filter(store_id=seeded.store_id).values_list("id", "tracking_number")
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda number: d.sandbox.add_event(
                    number, status="in_transit", description=f"{CHECKPOINT} {number}"
                ),
                numbers.values(),
            )
        )
    d.report.step(f"sandbox: a '{CHECKPOINT}' event added to each of the {len(numbers)} numbers")
    services.store_clear_bulk_cooldown(store=Store.objects.get(pk=seeded.store_id))
    d.report.step("ops cleared the store's bulk cooldown (audited) for the second run")
    return numbers


def inject_faults_phase(d: Drill, run_id: int, numbers: dict[int, str], hang_ids) -> Faults:
    """As soon as run 2 makes progress: aftership 429 once, dhl 429 until a date, fedex 500,
    ups hangs for a few numbers."""
    from shipments.models import SyncRunItem

    sandbox = d.sandbox
    wait_until(
        lambda: d.run_row(run_id).done >= 1,
        timeout=60,
        what="run 2 to make progress",
        interval=0.02,
    )
    injected = time.time()
    date_until = int(injected) + DATE_AHEAD
    aftership_armed = time.time()
    sandbox.carrier_fault("aftership", "rate_limit", retry_after=str(PAUSE_SECONDS), times=1)
    dhl_base = sandbox.stats()["by_carrier"].get("dhl", 0)
    dhl_armed = time.time()
    sandbox.carrier_fault("dhl", "rate_limit", retry_after=http_date(date_until - injected))
    sandbox.carrier_fault("fedex", "fail")
    for sid in hang_ids:
        sandbox.fault(numbers[sid], "hang", seconds=HANG_SECONDS)
    at_injection = {
        c: SyncRunItem.objects.filter(run_id=run_id, carrier=c, outcome="pending").count()
        for c in ("aftership", "dhl", "fedex", "ups")
    }
    faults = Faults(
        run_id, date_until, aftership_armed, dhl_armed, dhl_base, at_injection, sandbox.stats()
    )
    d.report.step(
        f"run {run_id}: faults on at {d.run_row(run_id).done} done — aftership 429 "
        f"Retry-After {PAUSE_SECONDS} (once); dhl 429 Retry-After "
        f"'{http_date(date_until - time.time())}' (always); fedex 500 (always); ups hangs "
        f"{HANG_SECONDS}s for {len(hang_ids)} numbers; pending then: {at_injection}"
    )
    return faults


def faulty_run_phase(
    d: Drill, merchant: Browser, numbers: dict[int, str], hang_ids, sampler: Sampler
) -> Faults:
    """Run 2 with the sandbox's stats sampled throughout; faults switched on once it goes."""
    with background(sampler, name="sampler"):
        time.sleep(0.3)
        response = merchant.post("/app/shipments/resync/", {"window": "7d"})
        if response.status_code != 202:
            raise DrillFailed(f"second bulk resync: HTTP {response.status_code}")
        faults = inject_faults_phase(d, response.json()["run"], numbers, hang_ids)
        run = d.wait_run_finished(faults.run_id, timeout=150, label="run 2")
        faults.run = run
        faults.took = (run.finished_at - run.started_at).total_seconds()
        d.report.step(f"run {faults.run_id} {run.state} in {faults.took:.1f}s")
    return faults


def verify_pauses_phase(d: Drill, sampler: Sampler, faults: Faults) -> None:
    """No request to a carrier while it was paused by its Retry-After."""
    report = d.report
    hit = sampler.first(
        lambda stats, f: "aftership" not in f["carriers"], after=faults.aftership_armed
    )
    if hit is None:
        report.fail("aftership's 429 was served")
    else:
        quiet = sampler.requests("aftership", hit + PAUSE_SECONDS - 0.4) - sampler.requests(
            "aftership", hit + 0.4
        )
        report.check(
            f"aftership paused for its Retry-After ({PAUSE_SECONDS}s): no request while paused",
            quiet == 0,
            f"{quiet} requests between +0.4s and +{PAUSE_SECONDS - 0.4}s after the 429",
        )
    first_dhl = sampler.first(
        lambda stats, f: stats["by_carrier"].get("dhl", 0) > faults.dhl_base,
        after=faults.dhl_armed,
    )
    if first_dhl is None:
        report.fail("dhl's 429 was served")
    else:
        until = faults.date_until
        quiet = sampler.requests("dhl", until - 0.4) - sampler.requests("dhl", first_dhl + 0.6)
        report.check(
            "dhl paused until its Retry-After HTTP-date: no request while paused",
            quiet == 0,
            f"{quiet} requests between the first 429 (+0.6s) and the date (-0.4s), "
            f"a {until - first_dhl:.1f}s pause",
        )


def verify_retry_bounds_phase(d: Drill, faults: Faults) -> None:
    """Numbers asked again at most (1 + CARRIER_MAX_RETRIES) times."""
    max_retries = int(d.env()["CARRIER_MAX_RETRIES"])
    stats = d.sandbox.stats()
    before = faults.stats_at_injection["numbers_requested"]
    for carrier in ("dhl", "fedex"):
        asked = stats["numbers_requested"].get(carrier, 0) - before.get(carrier, 0)
        bound = (1 + max_retries) * max(faults.at_injection[carrier], 1)
        d.report.check(
            f"{carrier}: retries within bounds (≤ (1 + CARRIER_MAX_RETRIES) × numbers pending)",
            asked <= bound,
            f"{asked} numbers requested since the fault, bound {bound}",
        )


def run_items(run_id: int) -> dict[int, tuple[str, str, str]]:
    """shipment id → (carrier, outcome, error) of a run's items."""
    from shipments.models import SyncRunItem

    rows = SyncRunItem.objects.filter(run_id=run_id).values_list(
        "shipment_id", "carrier", "outcome", "error"
    )
    return {sid: (carrier, outcome, error) for sid, carrier, outcome, error in rows}


def outcomes_by_carrier(items: dict[int, tuple[str, str, str]], carriers) -> dict:
    counts: dict[str, dict[str, int]] = {c: {} for c in sorted(carriers)}
    for carrier, outcome, _ in items.values():
        if carrier in counts:
            counts[carrier][outcome] = counts[carrier].get(outcome, 0) + 1
    return counts


def verify_outcomes_phase(
    d: Drill, seeded: Seeded, faults: Faults, baseline: dict[str, float], hang_ids
) -> dict[int, tuple[str, str, str]]:
    """Exact counts; per carrier: recovered, failed saying why, or unaffected and on time."""
    report = d.report
    run = d.check_run_exact(faults.run_id, expected_total=d.args.shipments, label="run 2")
    report.check(
        "run 2 completed with errors", run.state == "completed_with_errors", f"{run.state}"
    )
    items = run_items(faults.run_id)
    per_carrier = outcomes_by_carrier(items, seeded.by_carrier)
    report.step(f"run 2 outcomes per carrier: {per_carrier}")
    report.check(
        "aftership (429 once) recovered: no failures",
        per_carrier["aftership"].get("failed", 0) == 0,
        f"{per_carrier['aftership']}",
    )
    for carrier, phrase in (("dhl", "busy"), ("fedex", "could not be reached")):
        failed = [e for c, o, e in items.values() if c == carrier and o == "failed"]
        report.check(
            f"{carrier}: shipments still pending at the fault failed, saying why ({phrase!r})",
            len(failed) >= 1
            and per_carrier[carrier].get("failed", 0) >= faults.at_injection[carrier] - 40
            and all(phrase in e for e in failed),
            f"{len(failed)} failed of {faults.at_injection[carrier]} pending at the fault; "
            f"e.g. {failed[0] if failed else '-'!r}",
        )
    ups_failed = {sid for sid, (c, o, _) in items.items() if c == "ups" and o == "failed"}
    report.check(
        "ups: exactly the hanging numbers timed out and failed, the rest succeeded",
        ups_failed == set(hang_ids)
        and all("could not be reached" in items[sid][2] for sid in hang_ids),
        f"failed {sorted(ups_failed)}, hanging {sorted(hang_ids)}",
    )
    offsets = finish_offsets(faults.run_id)
    for carrier in HEALTHY:
        bound = max(2 * baseline[carrier], baseline[carrier] + 10)
        report.check(
            f"{carrier} (unaffected) finished on time, all synced",
            per_carrier[carrier].get("failed", 0) == 0 and offsets[carrier] <= bound,
            f"last item {offsets[carrier]:.1f}s after the start (run 1: "
            f"{baseline[carrier]:.1f}s, bound {bound:.1f}s; run 2 took {faults.took:.1f}s)",
        )
    return items


def verify_kept_data_phase(d: Drill, seeded: Seeded, items, old) -> list[int]:
    """Failed shipments keep their old status and events and say why; the others got the
    checkpoint event. Returns the failed shipments."""
    from shipments.models import Shipment, TrackingEvent

    report = d.report
    now = snapshot(seeded.store_id)
    shipments = {s.pk: s for s in Shipment.objects.filter(store_id=seeded.store_id)}
    failed_ids = [sid for sid, (_, o, _) in items.items() if o == "failed"]
    kept = [sid for sid in failed_ids if now[sid] == old[sid]]
    report.check(
        "failed shipments kept their old status and events (no checkpoint event)",
        len(kept) == len(failed_ids) > 0,
        f"{len(kept)}/{len(failed_ids)} unchanged",
    )
    explained = [
        sid
        for sid in failed_ids
        if shipments[sid].last_sync_outcome == "error"
        and shipments[sid].last_sync_error
        and shipments[sid].last_sync_error == items[sid][2]
    ]
    report.check(
        "failed shipments show why: last_sync_error == run item error, outcome 'error'",
        len(explained) == len(failed_ids),
        f"{len(explained)}/{len(failed_ids)}",
    )
    ok_ids = [sid for sid, (_, o, _) in items.items() if o != "failed"]
    fresh = set(
        TrackingEvent.objects.filter(
            shipment_id__in=ok_ids, description__startswith=CHECKPOINT
        ).values_list("shipment_id", flat=True)
    )
    report.check(
        "every synced shipment got the new checkpoint event and outcome ok",
        len(fresh) == len(ok_ids)
        and all(shipments[sid].last_sync_outcome == "ok" for sid in ok_ids),
        f"{len(fresh)}/{len(ok_ids)}",
    )
    return failed_ids


def verify_merchant_json_phase(
    d: Drill, merchant: Browser, items, old, failed_ids: list[int], hang_ids
) -> None:
    """The merchant's details JSON of a failed dhl, fedex and ups shipment."""
    sample = [next(sid for sid in failed_ids if items[sid][0] == c) for c in ("dhl", "fedex")]
    sample += hang_ids[:1]
    seen = []
    for sid in sample:
        body = merchant.get(f"/app/shipments/{sid}/", json_=True).json()
        seen.append(
            body["status"] == old[sid][0]
            and body["last_sync_outcome"] == "error"
            and body["last_sync_error"] == items[sid][2]
            and not any(CHECKPOINT in e["description"] for e in body["events"])
        )
    d.report.check(
        "the merchant's details JSON shows the old status, no new event, and the error",
        all(seen),
        f"{sum(seen)}/{len(seen)} sampled (dhl, fedex, ups)",
    )


def drill(d: Drill) -> None:
    seeded = start_phase(d)
    merchant = d.merchant(seeded.merchants[0])
    baseline = first_run_phase(d, merchant)
    old = snapshot(seeded.store_id)
    numbers = checkpoint_phase(d, seeded)
    hang_ids = seeded.by_carrier["ups"][-(5 if not d.args.quick else 3) :]
    sampler = Sampler(d)
    faults = faulty_run_phase(d, merchant, numbers, hang_ids, sampler)
    verify_pauses_phase(d, sampler, faults)
    verify_retry_bounds_phase(d, faults)
    items = verify_outcomes_phase(d, seeded, faults, baseline, hang_ids)
    failed_ids = verify_kept_data_phase(d, seeded, items, old)
    verify_merchant_json_phase(d, merchant, items, old, failed_ids, hang_ids)
    d.check_no_tracebacks(*[s for s in d.services if s.name in ("web", "worker1")])


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], full_n=FULL_N, quick_n=QUICK_N)
    sys.exit(main(drill, Drill("carrier_misbehaving", args)))
