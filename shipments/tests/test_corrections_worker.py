"""Carrier correction end to end: a real worker asks the new carrier (the sandbox, over HTTP)."""

from __future__ import annotations

import pytest

from shipments import services
from shipments.carriers.numbers import example_number
from shipments.models import ResyncJob, Shipment, TrackingEvent

from .fixtures import make_shipment, make_store
from .worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _finished(job_id) -> ResyncJob:
    return wait_for(lambda: (job := ResyncJob.objects.get(pk=job_id)).is_finished and job)


def test_correcting_a_not_found_shipment_brings_its_timeline(worker, sandbox):
    store = make_store()
    wrong = make_shipment(store, carrier="dhl", tracking_number=example_number("dhl", 4040))
    sandbox.fault(wrong.tracking_number, "unknown")
    first = services.shipment_resync(shipment=wrong, source="merchant")
    assert _finished(first.job.pk).state == "failed"
    wrong.refresh_from_db()
    assert wrong.last_sync_outcome == "error"

    right = example_number("fedex", 4040)
    # During the cooldown the first resync started: a correction is not refused.
    verdict = services.shipment_correct(shipment=wrong, carrier="fedex", tracking_number=right)
    job = _finished(verdict.job.pk)
    assert job.state == "succeeded", job.message
    shipment = Shipment.objects.get(pk=wrong.pk)
    assert (shipment.carrier, shipment.tracking_number) == ("fedex", right)
    assert shipment.last_sync_outcome == "ok"
    assert TrackingEvent.objects.filter(shipment=shipment).exists()
    assert sandbox.stats()["numbers_requested"].get("fedex") == 1
