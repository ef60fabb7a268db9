"""End to end: news from the carrier sandbox, a real resync on a real Celery worker, and the
merchant's receiver (a real HTTP server) gets both events, signed, in the contract's shape."""

from __future__ import annotations

import json

import pytest

from hooks.models import WebhookDelivery
from shipments import services
from shipments.models import ResyncJob
from shipments.tests.fixtures import make_shipment, make_store
from shipments.tests.worker_fixtures import wait_for

from .helpers import make_endpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _resync(shipment) -> ResyncJob:
    verdict = services.shipment_resync(shipment=shipment, source="merchant")
    return wait_for(lambda: (job := ResyncJob.objects.get(pk=verdict.job.pk)).is_finished and job)


def test_a_carrier_event_reaches_the_merchants_receiver_signed(worker, sandbox, receiver):
    store = make_store()
    shipment = make_shipment(store, carrier="dhl")
    endpoint = make_endpoint(store, receiver.url)
    assert _resync(shipment).state == "succeeded"  # the first pull: a status and events
    wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").count() == 2)
    first = {str(uid) for uid in WebhookDelivery.objects.values_list("uid", flat=True)}
    receiver.requests.clear()

    sandbox.add_event(
        shipment.tracking_number, status="out_for_delivery", description="With the courier now"
    )
    services.shipment_clear_cooldown(shipment=shipment)
    job = _resync(shipment)
    assert job.state == "succeeded"
    assert job.changed is True

    def second_change() -> list[tuple[object, dict]]:
        # Receivers dedupe by delivery id (at-least-once); the first pull's ids are not ours.
        seen: dict[str, tuple[object, dict]] = {}
        for request in list(receiver.requests):
            body = json.loads(request.body)
            if body["id"] not in first:
                seen.setdefault(body["id"], (request, body))
        return list(seen.values())

    wait_for(lambda: len(second_change()) >= 2)
    pairs = second_change()
    bodies = [body for _request, body in pairs]
    assert [b["type"] for b in bodies] == ["shipment.status_changed", "shipment.updated"]
    for request, body in pairs:
        assert receiver.verify(endpoint.secret, request)
        assert not receiver.verify("whsec_wrong", request)
        assert set(body) == {"id", "type", "created_at", "data"}
        details = body["data"]["shipment"]
        assert details["id"] == shipment.pk
        assert details["status"] == "out_for_delivery"
        assert details["events"][0]["description"] == "With the courier now"
        assert details["tracking_number"] == shipment.tracking_number
    assert bodies[0]["id"] != bodies[1]["id"]
    # The receiver answered before the worker recorded it: wait for the record.
    received = {b["id"] for b in bodies}

    def recorded() -> bool:
        delivered = WebhookDelivery.objects.filter(state="delivered").values_list("uid", flat=True)
        return received <= {str(uid) for uid in delivered}

    wait_for(recorded)
