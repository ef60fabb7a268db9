"""A NUL byte (or another control character) in one shipment's carrier text, end to end: a real
Celery worker, the carrier sandbox over HTTP, the test database (run it on SQLite and on
PostgreSQL, where a NUL in a text value is refused by the database).

SPEC §10: text from carriers is stored as the carrier sent it, less NUL bytes and other control
characters; one bad shipment never fails the rest of its chunk.
"""

from __future__ import annotations

import pytest

from shipments import services
from shipments.models import ResyncJob, RunState, Shipment, SyncRun, TrackingEvent

from .fixtures import make_shipment, make_store
from .worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

POISON = "Arrived\x00 at\x07 the hub\x1b[31m\x7f\x85"
CLEAN = "Arrived at the hub[31m"
BIDI = "\u202eduh eht ta devirrA\u202c"


def _finished_run(run_id: int, timeout: float = 60) -> SyncRun:
    return wait_for(
        lambda: (
            (run := SyncRun.objects.get(pk=run_id)).state
            in (RunState.COMPLETED, RunState.COMPLETED_WITH_ERRORS, RunState.FAILED)
            and run
        ),
        timeout=timeout,
    )


def test_a_nul_in_one_event_does_not_fail_its_chunk(worker, sandbox):
    store = make_store()
    shipments = [make_shipment(store, carrier="dhl") for _ in range(4)]
    poisoned, bidi = shipments[1], shipments[2]
    sandbox.add_event(
        poisoned.tracking_number,
        status="out_for_delivery",
        description=POISON,
        location="Leip\x00zig\x01, DE",
    )
    sandbox.add_event(bidi.tracking_number, status="out_for_delivery", description=BIDI)

    verdict = services.store_bulk_resync(store=store, window="7d", source="merchant")
    run = _finished_run(verdict.run.pk)

    assert (run.total, run.done, run.failed) == (4, 4, 0), run.state
    assert run.state == RunState.COMPLETED
    for shipment in shipments:
        fresh = Shipment.objects.get(pk=shipment.pk)
        assert fresh.last_sync_outcome == "ok", (shipment.pk, fresh.last_sync_error)
        assert fresh.events.exists()
    latest = TrackingEvent.objects.filter(shipment=poisoned).order_by("-occurred_at").first()
    assert (latest.description, latest.location) == (CLEAN, "Leipzig, DE")
    assert Shipment.objects.get(pk=poisoned.pk).status == "out_for_delivery"
    # Bidi controls are not Cc: stored as sent (the pages isolate them).
    assert TrackingEvent.objects.filter(shipment=bidi, description=BIDI).count() == 1
    texts = TrackingEvent.objects.values_list("description", "location")
    assert not [t for t in texts if "\x00" in t[0] + t[1]]


def test_a_single_resync_of_a_poisoned_shipment_succeeds_with_clean_text(worker, sandbox):
    shipment = make_shipment(make_store(), carrier="ups")
    sandbox.add_event(shipment.tracking_number, status="out_for_delivery", description=POISON)

    verdict = services.shipment_resync(shipment=shipment, source="merchant")
    job = wait_for(
        lambda: (job := ResyncJob.objects.get(pk=verdict.job.pk)).is_finished and job, timeout=20
    )

    assert job.state == ResyncJob.State.SUCCEEDED, job.message
    assert shipment.events.filter(description=CLEAN).count() == 1
