"""The sync engine end to end: a real Celery worker, real Redis, the carrier sandbox over HTTP."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from shipments import messages, services, tasks
from shipments.carriers import catalogue
from shipments.models import (
    ResyncJob,
    ResyncRequest,
    RunState,
    Shipment,
    SyncRun,
    SyncRunItem,
    TrackingEvent,
)

from .fixtures import make_shipment, make_store
from .worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CARRIERS = catalogue.CODES


def _finished_job(job_id, timeout: float = 20) -> ResyncJob:
    return wait_for(
        lambda: (job := ResyncJob.objects.get(pk=job_id)).is_finished and job, timeout=timeout
    )


def _finished_run(run_id: int, timeout: float = 60) -> SyncRun:
    return wait_for(
        lambda: (
            (run := SyncRun.objects.get(pk=run_id)).state
            in (RunState.COMPLETED, RunState.COMPLETED_WITH_ERRORS, RunState.FAILED)
            and run
        ),
        timeout=timeout,
    )


def test_single_resync_pulls_a_new_event_and_starts_the_shared_cooldown(worker, sandbox):
    store = make_store()
    shipment = make_shipment(store, carrier="dhl")
    verdict = services.shipment_resync(shipment=shipment, source="merchant")
    job = _finished_job(verdict.job.pk)
    assert job.state == "succeeded", job.message
    assert job.message == str(messages.SUCCESS_MESSAGE)
    before = TrackingEvent.objects.filter(shipment=shipment).count()
    assert before >= 1

    sandbox.add_event(
        shipment.tracking_number, status="out_for_delivery", description="With the courier now"
    )
    # Within 5 minutes both places are refused, with the remaining time from Redis.
    for source in ("shopper", "merchant"):
        refused = services.shipment_resync(shipment=shipment, source=source)
        assert not refused.accepted
        assert 290 <= refused.retry_after <= 300
    services.shipment_clear_cooldown(shipment=shipment)  # ops
    verdict = services.shipment_resync(shipment=shipment, source="shopper")
    job = _finished_job(verdict.job.pk)
    assert job.state == "succeeded"
    assert job.changed is True
    fresh = Shipment.objects.get(pk=shipment.pk)
    assert fresh.status == "out_for_delivery"
    assert fresh.events.filter(description="With the courier now").count() == 1
    assert fresh.events.count() == before + 1
    # A shopper's refusal is counted in Redis and written by the flush, dated when it happened.
    services.resync_refusals_flush(now=time.time() + 120)
    sources = list(
        ResyncRequest.objects.order_by("created_at", "id").values_list("source", "accepted")
    )
    assert sources[:3] == [("merchant", True), ("shopper", False), ("merchant", False)]
    assert sources[-1] == ("shopper", True)


def test_hundred_concurrent_single_resyncs_run_one_task(worker, sandbox):
    shipment = make_shipment(make_store(), carrier="fedex")
    verdicts: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def click() -> None:
        barrier.wait()
        try:
            verdict = services.shipment_resync(shipment=shipment, source="shopper")
        finally:
            connection.close()  # this thread ends: give its connection back
        with lock:
            verdicts.append(verdict)

    threads = [threading.Thread(target=click) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(v.accepted for v in verdicts) == 1
    assert all(v.retry_after >= 1 for v in verdicts)
    job = _finished_job(ResyncJob.objects.get(shipment=shipment).pk)
    assert job.state == "succeeded"
    time.sleep(0.5)  # nothing else arrives
    assert ResyncJob.objects.filter(shipment=shipment).count() == 1
    assert sandbox.stats()["numbers_requested"].get("fedex") == 1


def test_bulk_run_across_carriers_completes_with_exact_counts_and_replays_change_nothing(
    worker, sandbox
):
    store = make_store(time_zone="America/New_York")
    shipments = [make_shipment(store, carrier=CARRIERS[i % len(CARRIERS)]) for i in range(210)]
    unknown = make_shipment(store, carrier="dhl", tracking_number="NOTFOUND0001")
    verdict = services.store_bulk_resync(store=store, window="7d", source="merchant")
    assert verdict.accepted
    run = _finished_run(verdict.run.pk)
    assert (run.total, run.done) == (211, 211)
    assert (run.changed, run.unchanged, run.failed) == (210, 0, 1)
    assert run.state == RunState.COMPLETED_WITH_ERRORS
    assert SyncRunItem.objects.get(run=run, shipment=unknown).outcome == "failed"
    assert Shipment.objects.get(pk=unknown.pk).last_sync_outcome == "error"
    events = TrackingEvent.objects.count()
    assert events >= 210
    # Histories differ per number: the store now shows several statuses.
    assert Shipment.objects.filter(store=store).values("status").distinct().count() >= 2

    # A chunk delivered twice (by hand, through the worker): no new counts, no new events.
    ids = [s.pk for s in shipments if s.carrier == "fedex"]
    tasks.sync_chunk.delay(run.pk, "fedex", ids)
    tasks.sync_chunk.delay(None, "fedex", ids)  # and as a scheduled sync
    wait_for(
        lambda: (
            Shipment.objects.filter(pk__in=ids, last_synced_at__gt=run.finished_at).count()
            == len(ids)
        )
    )
    again = SyncRun.objects.get(pk=run.pk)
    assert (again.done, again.changed, again.unchanged, again.failed) == (211, 210, 0, 1)
    assert TrackingEvent.objects.count() == events

    # The run released its lock; the store's hour-long cooldown still holds.
    refused = services.store_bulk_resync(store=store, window="7d", source="merchant")
    assert (refused.accepted, refused.reason) == (False, "cooldown")


def test_rate_limited_carriers_are_rescheduled_not_slept_on(worker, sandbox):
    store = make_store()
    slow = [make_shipment(store, carrier=c) for c in ("dhl", "ups")]
    others = [make_shipment(store, carrier="fedex") for _ in range(20)]
    for shipment in slow:
        sandbox.fault(shipment.tracking_number, "rate_limit", retry_after="3", times=1)
    started = time.monotonic()
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    # Both worker processes stay free while the two carriers wait out their Retry-After:
    # the other shipments are done long before the 3 s are over.
    wait_for(
        lambda: (
            SyncRunItem.objects.filter(
                run=verdict.run, shipment__in=others, outcome="changed"
            ).count()
            == 20
        ),
        timeout=2.5,
    )
    assert (
        SyncRunItem.objects.filter(run=verdict.run, shipment__in=slow, outcome="pending").count()
        == 2
    )
    run = _finished_run(verdict.run.pk, timeout=20)
    assert time.monotonic() - started >= 3
    assert (run.state, run.changed, run.failed) == ("completed", 22, 0)


def test_a_failing_carrier_gives_bounded_retries_then_a_recorded_failure(worker, sandbox):
    store = make_store()
    broken = make_shipment(store, carrier="fedex")
    healthy = make_shipment(store, carrier="ups")
    # First a good sync, so there is data to keep.
    verdict = services.shipment_resync(shipment=broken, source="merchant")
    assert _finished_job(verdict.job.pk).state == "succeeded"
    good = Shipment.objects.get(pk=broken.pk)
    events = good.events.count()

    sandbox.fault(broken.tracking_number, "fail")
    verdict = services.store_bulk_resync(store=store, window="today", source="ops", force=True)
    run = _finished_run(verdict.run.pk, timeout=30)
    assert (run.state, run.changed + run.unchanged, run.failed) == ("completed_with_errors", 1, 1)
    item = SyncRunItem.objects.get(run=run, shipment=broken)
    assert "could not be reached" in item.error
    after = Shipment.objects.get(pk=broken.pk)
    assert after.last_sync_outcome == "error"
    assert (after.status, after.events.count()) == (good.status, events)
    assert Shipment.objects.get(pk=healthy.pk).last_sync_outcome == "ok"
    # Bounded: the first try plus CARRIER_MAX_RETRIES (3) retries, no more.
    assert sandbox.stats()["numbers_requested"]["fedex"] == 1 + 4


def test_a_stalled_run_is_resumed_by_the_reconciler(worker, sandbox, settings):
    store = make_store()
    for carrier in ("dhl", "fedex", "usps"):
        make_shipment(store, carrier=carrier)
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    run = _finished_run(verdict.run.pk)
    assert run.state == "completed"

    # A run whose chunk messages were lost (planned, never executed), idle for too long.
    other = make_store()
    for carrier in ("dhl", "fedex", "usps"):
        make_shipment(other, carrier=carrier)
    lost = SyncRun.objects.create(store=other, window="today", source="merchant", total=3)
    services.sync_run_dispatch(run_id=lost.pk)  # plans items; its chunks are never enqueued
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.SYNC_RUN_STALL_SECONDS + 5)
    SyncRun.objects.filter(pk=lost.pk).update(progressed_at=long_ago)
    tasks.sync_runs_reconcile.delay()
    resumed = _finished_run(lost.pk)
    assert (resumed.state, resumed.done, resumed.changed) == ("completed", 3, 3)
