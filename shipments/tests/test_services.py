from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shipments import messages, services
from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.models import (
    ResyncJob,
    ResyncRequest,
    RunState,
    Shipment,
    ShipmentStatus,
    SyncRun,
    SyncRunItem,
    TrackingEvent,
)
from shipments.redis_client import get_redis
from shipments.services import runs

from .fixtures import make_shipment, make_store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _record_publications(published):
    """Enqueued tasks are recorded, not sent (see `published`)."""


def _result(shipment: Shipment, *events: tuple[str, str], status: str = "in_transit"):
    base = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    evs = tuple(
        TrackingEventData(
            occurred_at=base + dt.timedelta(hours=i),
            status=ShipmentStatus(code),
            description=text,
            location="Leipzig, DE",
            raw_code=code,
        )
        for i, (code, text) in enumerate(events)
    )
    return TrackingResult(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=ShipmentStatus(status),
        raw_status_code=status,
        events=tuple(reversed(evs)),
    )


def test_applying_the_same_history_twice_changes_nothing(shipment):
    result = _result(shipment, ("info_received", "Label"), ("in_transit", "Departed"))
    now = timezone.now()
    assert services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=now
    ) == {shipment.pk}
    fresh = Shipment.objects.get(pk=shipment.pk)
    assert fresh.status == "in_transit"
    assert fresh.last_sync_outcome == "ok"
    assert fresh.events.count() == 2
    # Re-pulling the same history: no new events, nothing changed.
    again = Shipment.objects.get(pk=shipment.pk)
    assert (
        services.shipments_apply_results(
            shipments=[again], results={shipment.tracking_number: result}, now=now
        )
        == set()
    )
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
    # One new event is a change.
    newer = _result(
        shipment,
        ("info_received", "Label"),
        ("in_transit", "Departed"),
        ("out_for_delivery", "On the van"),
        status="out_for_delivery",
    )
    assert services.shipments_apply_results(
        shipments=[again], results={shipment.tracking_number: newer}, now=now
    ) == {shipment.pk}
    assert Shipment.objects.get(pk=shipment.pk).status == "out_for_delivery"
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 3


def test_final_statuses_leave_the_schedule(shipment):
    result = _result(shipment, ("delivered", "Delivered"), status="delivered")
    services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=timezone.now()
    )
    assert Shipment.objects.get(pk=shipment.pk).next_sync_at is None


def test_a_failed_sync_keeps_the_last_good_data(shipment):
    result = _result(shipment, ("in_transit", "Departed"))
    services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=timezone.now()
    )
    services.shipments_mark_failed(
        shipment_ids=[shipment.pk], reason="The carrier could not be reached", now=timezone.now()
    )
    fresh = Shipment.objects.get(pk=shipment.pk)
    assert (fresh.status, fresh.last_sync_outcome) == ("in_transit", "error")
    assert fresh.last_sync_error == "The carrier could not be reached"
    assert fresh.events.count() == 1


def test_single_resync_is_audited_and_enqueued_once_on_commit(
    shipment, merchant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueues:
        verdict = services.shipment_resync(shipment=shipment, source="merchant", user=merchant)
    assert verdict.accepted
    assert verdict.retry_after == 300
    assert len(enqueues) == 1
    with django_capture_on_commit_callbacks() as enqueues:
        refused = services.shipment_resync(
            shipment=shipment, source="shopper", ip_address="10.0.0.1"
        )
    assert enqueues == []
    assert not refused.accepted
    assert refused.reason == "cooldown"
    assert refused.message == "You can resync again in 5 min 0 s."
    # An anonymous shopper's refusal is counted in Redis and written by the flush.
    services.resync_refusals_flush(now=time.time() + 120)
    audit = list(
        ResyncRequest.objects.order_by("id").values_list("source", "accepted", "refused_reason")
    )
    assert audit == [("merchant", True, ""), ("shopper", False, "cooldown")]
    assert ResyncJob.objects.get().state == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(published):
    shipment = make_shipment(make_store())

    def request_then_fail() -> None:
        with transaction.atomic():
            services.shipment_resync(shipment=shipment, source="merchant")
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        request_then_fail()
    assert published == []
    assert not ResyncJob.objects.exists()
    # The same request committed is published once, after its commit.
    services.shipment_clear_cooldown(shipment=shipment)
    verdict = services.shipment_resync(shipment=shipment, source="merchant")
    assert published == [
        ("shipments.tasks.resync_job_execute", (str(verdict.job.pk),), "interactive")
    ]


def test_bulk_resync_counts_the_window_and_refuses_a_second_run(
    store, other_store, django_capture_on_commit_callbacks
):
    now = timezone.now()
    for hours in (1, 30, 24 * 10):
        make_shipment(store, shipped_at=now - dt.timedelta(hours=hours))
    with django_capture_on_commit_callbacks() as enqueues:
        verdict = services.store_bulk_resync(store=store, window="7d", source="merchant")
    assert verdict.accepted
    assert verdict.run.total == 2
    assert verdict.run.state == "queued"
    assert len(enqueues) == 1
    second = services.store_bulk_resync(store=store, window="30d", source="merchant")
    assert (second.accepted, second.reason) == (False, "in_progress")
    assert 3590 <= second.retry_after <= 3600
    assert SyncRun.objects.filter(store=store).count() == 1
    assert services.store_bulk_resync(store=other_store, window="7d", source="merchant").accepted


def test_fifty_concurrent_bulk_requests_make_one_run(transactional_db):
    store = make_store()
    make_shipment(store)

    def request():
        try:
            return services.store_bulk_resync(store=store, window="today", source="merchant")
        finally:
            connection.close()  # this thread ends: give its connection back

    verdicts: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def one():
        barrier.wait()
        v = request()
        with lock:
            verdicts.append(v)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(v.accepted for v in verdicts) == 1
    assert all(v.retry_after >= 1 for v in verdicts)
    assert SyncRun.objects.filter(store=store).count() == 1
    assert ResyncRequest.objects.filter(store=store).count() == 50
    assert ResyncRequest.objects.filter(store=store, accepted=True).count() == 1


def test_run_counts_are_exact_when_a_chunk_is_recorded_twice(
    store, django_capture_on_commit_callbacks
):
    shipments = [make_shipment(store) for _ in range(4)]
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    chunks = services.sync_run_dispatch(run_id=verdict.run.pk)
    assert sum(len(ids) for _, ids in chunks) == 4
    now = timezone.now()
    ids = [s.pk for s in shipments]
    for _ in range(2):  # a redelivered chunk
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            runs._record_run_outcomes(
                verdict.run.pk,
                changed=ids[:2],
                unchanged=ids[2:3],
                failed={ids[3]: "not found"},
                now=now,
            )
    run = SyncRun.objects.get(pk=verdict.run.pk)
    assert (run.total, run.done, run.changed, run.unchanged, run.failed) == (4, 4, 2, 1, 1)
    assert run.state == RunState.COMPLETED_WITH_ERRORS
    assert run.finished_at is not None
    # The run is over: the in-progress lock is gone, the hour's cooldown remains.
    again = services.store_bulk_resync(store=store, window="today", source="merchant")
    assert again.reason == "cooldown"


def test_an_empty_window_completes_at_once(store):
    verdict = services.store_bulk_resync(store=store, window="yesterday", source="cli")
    assert services.sync_run_dispatch(run_id=verdict.run.pk) == []
    run = SyncRun.objects.get(pk=verdict.run.pk)
    assert (run.state, run.total, run.done) == ("completed", 0, 0)


def test_dispatch_groups_by_carrier_in_batch_sized_chunks(store):
    for _ in range(65):
        make_shipment(store, carrier="fedex")
    for _ in range(3):
        make_shipment(store, carrier="dhl")
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    chunks = services.sync_run_dispatch(run_id=verdict.run.pk)
    sizes = sorted((carrier, len(ids)) for carrier, ids in chunks)
    assert sizes == [("dhl", 3), ("fedex", 5), ("fedex", 60)]
    # Dispatching twice (a redelivered dispatcher) adds no items.
    services.sync_run_dispatch(run_id=verdict.run.pk)
    assert SyncRunItem.objects.filter(run=verdict.run).count() == 68


def test_stale_shipments_expire_and_leave_the_schedule(store):
    now = timezone.now()
    old_express = make_shipment(store, carrier="ups", shipped_at=now - dt.timedelta(days=31))
    old_postal = make_shipment(store, carrier="usps", shipped_at=now - dt.timedelta(days=31))
    older_postal = make_shipment(store, carrier="usps", shipped_at=now - dt.timedelta(days=61))
    never_pulled = make_shipment(store, carrier="ups", shipped_at=now - dt.timedelta(days=40))
    Shipment.objects.update(next_sync_at=now, last_synced_at=now - dt.timedelta(days=1))
    Shipment.objects.filter(pk=never_pulled.pk).update(last_synced_at=None)
    assert services.shipments_expire_stale(now=now) == 2
    assert Shipment.objects.get(pk=never_pulled.pk).status == "pending"  # pulled first
    statuses = dict(Shipment.objects.values_list("pk", "status"))
    assert statuses[old_express.pk] == "expired"
    assert statuses[old_postal.pk] == "pending"
    assert statuses[older_postal.pk] == "expired"


def test_overlapping_schedule_ticks_never_double_the_work(store):
    now = timezone.now()
    for _ in range(5):
        make_shipment(store, carrier="dhl")
    Shipment.objects.update(next_sync_at=now - dt.timedelta(minutes=1))
    first = services.shipments_take_due(now=now)
    assert sum(len(ids) for _, ids in first) == 5
    assert services.shipments_take_due(now=now) == []  # lock held
    get_redis().delete(services.SCHEDULE_LOCK_KEY)
    assert services.shipments_take_due(now=now) == []  # claimed shipments are not due again


def test_stalled_runs_are_claimed_once(store, settings):
    settings.SYNC_RUN_STALL_SECONDS = 60
    make_shipment(store)
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    services.sync_run_dispatch(run_id=verdict.run.pk)
    later = timezone.now() + dt.timedelta(seconds=61)
    assert [r.pk for r in services.sync_runs_stalled(now=later)] == [verdict.run.pk]
    assert services.sync_runs_stalled(now=later) == []
    assert services.sync_run_pending_chunks(run_id=verdict.run.pk)[0][1] == [
        Shipment.objects.get().pk
    ]


def test_humanized_waits():
    assert messages.humanize_wait(252) == "4 min 12 s"
    assert messages.humanize_wait(9) == "9 s"
    assert messages.humanize_wait(3600) == "1 h 0 min"
