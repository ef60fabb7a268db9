"""One shipment the database will not store never fails its neighbours (issue #13, item 2): the
chunk sync applies the rest and fails that one with the merchant's reason; a single resync job
ends failed, never left running. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipments import messages, services
from shipments.carriers.base import BatchOutcome, TrackingEventData, TrackingResult
from shipments.models import ResyncJob, RunState, Shipment, SyncRun, SyncRunItem, TrackingEvent
from shipments.services import jobs, pulls, runs

from .fixtures import make_shipment

pytestmark = pytest.mark.django_db

NOT_STORED = str(messages.ERROR_MESSAGES["not_stored"])


@pytest.fixture(autouse=True)
def _record_publications(published):
    """Enqueued tasks are recorded, not sent."""


def _result(shipment: Shipment, description: str = "Departed the hub") -> TrackingResult:
    return TrackingResult(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status="in_transit",
        raw_status_code="transit",
        raw_status_text="In transit",
        events=(
            TrackingEventData(
                occurred_at=dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC),
                status="in_transit",
                description=description,
                location="Leipzig, DE",
                raw_code="transit",
            ),
        ),
    )


def _answer(monkeypatch, module, results: dict[str, TrackingResult]) -> None:
    monkeypatch.setattr(module, "fetch", lambda carrier, numbers: BatchOutcome(results=results))


def _refuse_shipment(monkeypatch, bad_id: int) -> None:
    """The database refuses the row of shipment `bad_id` (whatever else is written with it)."""
    update = pulls._update_by_pk

    def refusing(model, objs, field_names):
        if any(obj.pk == bad_id for obj in objs):
            raise DataError("value refused")
        update(model, objs, field_names)

    monkeypatch.setattr(pulls, "_update_by_pk", refusing)


def _run_chunk(store, count: int) -> tuple[int, list[Shipment], list[int]]:
    shipments = [make_shipment(store, carrier="dhl") for _ in range(count)]
    verdict = services.store_bulk_resync(store=store, window="today", source="merchant")
    [(_, ids)] = services.sync_run_dispatch(run_id=verdict.run.pk)
    return verdict.run.pk, shipments, ids


def test_a_refused_shipment_fails_alone_and_the_chunk_is_applied(
    store, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    run_id, shipments, ids = _run_chunk(store, 4)
    bad = shipments[2]
    _answer(monkeypatch, runs, {s.tracking_number: _result(s) for s in shipments})
    _refuse_shipment(monkeypatch, bad.pk)

    with django_capture_on_commit_callbacks(execute=True):
        plan = services.sync_chunk(run_id=run_id, carrier="dhl", shipment_ids=ids)

    assert plan.retry_ids == []
    for shipment in shipments:
        fresh = Shipment.objects.get(pk=shipment.pk)
        if shipment.pk == bad.pk:
            assert (fresh.last_sync_outcome, fresh.last_sync_error) == ("error", NOT_STORED)
            assert fresh.status == "pending"  # its last good data stays
            assert not fresh.events.exists()
        else:
            assert (fresh.last_sync_outcome, fresh.status) == ("ok", "in_transit")
            assert fresh.events.filter(description="Departed the hub").count() == 1
    run = SyncRun.objects.get(pk=run_id)
    assert (run.total, run.done, run.changed, run.unchanged, run.failed) == (4, 4, 3, 0, 1)
    assert run.state == RunState.COMPLETED_WITH_ERRORS
    item = SyncRunItem.objects.get(run_id=run_id, shipment=bad)
    assert (item.outcome, item.error) == ("failed", NOT_STORED)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"shipment {bad.pk}: the carrier's answer could not be stored (DataError)"
    ]


def test_a_nul_the_adapter_missed_fails_only_its_shipment(store, monkeypatch):
    """A real refusal by the database: PostgreSQL text cannot hold NUL (SQLite stores it)."""
    run_id, shipments, ids = _run_chunk(store, 3)
    bad = shipments[0]
    results = {s.tracking_number: _result(s) for s in shipments}
    poisoned = results[bad.tracking_number].events[0]
    object.__setattr__(poisoned, "description", "Depar\x00ted")  # past the dataclass's cleaning
    _answer(monkeypatch, runs, results)

    services.sync_chunk(run_id=run_id, carrier="dhl", shipment_ids=ids)

    for shipment in shipments[1:]:
        fresh = Shipment.objects.get(pk=shipment.pk)
        assert (fresh.last_sync_outcome, fresh.status) == ("ok", "in_transit")
        assert fresh.events.count() == 1
    run = SyncRun.objects.get(pk=run_id)
    assert run.done == 3
    if connection.vendor == "postgresql":
        fresh = Shipment.objects.get(pk=bad.pk)
        assert (fresh.last_sync_outcome, fresh.last_sync_error) == ("error", NOT_STORED)
        assert (run.changed, run.failed) == (2, 1)


def test_the_bulk_write_takes_no_more_queries_than_before(store, monkeypatch):
    """A chunk without errors is written as before: no savepoint per shipment."""
    run_id, shipments, ids = _run_chunk(store, 20)
    _answer(monkeypatch, runs, {s.tracking_number: _result(s) for s in shipments})

    with CaptureQueriesContext(connection) as queries:
        services.sync_chunk(run_id=run_id, carrier="dhl", shipment_ids=ids)

    savepoints = [q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) <= 2  # the chunk's transaction and its apply's, in the test's own
    # 12 as before this change, plus the shopper e-mails' receiver (notify): one read and one
    # insert for the whole chunk, whatever its size (these 20 shipments enter `in_transit`),
    # plus the apply's row lock (one SELECT … FOR UPDATE: a second copy of a pull sees the first).
    assert len(queries) <= 12 + 2 + 1


def test_a_single_job_whose_apply_is_refused_ends_failed(shipment, monkeypatch):
    job = ResyncJob.objects.create(shipment=shipment, source="merchant")
    _answer(monkeypatch, jobs, {shipment.tracking_number: _result(shipment)})
    _refuse_shipment(monkeypatch, shipment.pk)

    assert services.resync_job_execute(job_id=str(job.pk)) is None

    job.refresh_from_db()
    assert (job.state, job.message, job.changed) == (ResyncJob.State.FAILED, NOT_STORED, False)
    assert job.finished_at is not None
    fresh = Shipment.objects.get(pk=shipment.pk)
    assert (fresh.last_sync_outcome, fresh.last_sync_error) == ("error", NOT_STORED)
    assert not TrackingEvent.objects.filter(shipment=shipment).exists()
    # A redelivery (the reconciler) finds it finished and does nothing.
    assert services.resync_job_execute(job_id=str(job.pk)) is None
    assert ResyncJob.objects.get(pk=job.pk).attempts == 1


def test_scheduled_chunk_without_a_run_applies_the_rest_too(store, monkeypatch):
    shipments = [make_shipment(store, carrier="dhl") for _ in range(3)]
    _answer(monkeypatch, runs, {s.tracking_number: _result(s) for s in shipments})
    _refuse_shipment(monkeypatch, shipments[1].pk)

    services.sync_chunk(run_id=None, carrier="dhl", shipment_ids=[s.pk for s in shipments])

    outcomes = dict(Shipment.objects.values_list("pk", "last_sync_outcome"))
    assert outcomes == {shipments[0].pk: "ok", shipments[1].pk: "error", shipments[2].pk: "ok"}
    assert timezone.now() > Shipment.objects.get(pk=shipments[1].pk).last_synced_at
