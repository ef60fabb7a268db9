"""`shipments_changed`: sent inside the apply service's transaction, once per call, with the
shipments that have news (a new event or another status) — what e-mails and webhooks build on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.services import shipments_apply_results
from shipments.signals import shipments_changed

from .fixtures import make_shipment, make_store

pytestmark = pytest.mark.django_db

SCAN = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def heard():
    calls: list[dict] = []

    def receiver(sender, changes, **kwargs):
        calls.append({"changes": changes, "in_transaction": connection.in_atomic_block})

    shipments_changed.connect(receiver, weak=False)
    yield calls
    shipments_changed.disconnect(receiver)


def _result(shipment, status, *events):
    return TrackingResult(shipment.carrier, shipment.tracking_number, status, events=events)


def test_news_is_announced_once_per_call_inside_the_transaction(heard):
    store = make_store()
    moving, quiet = make_shipment(store), make_shipment(store)
    quiet.status = "in_transit"
    quiet.save(update_fields=["status"])
    scan = TrackingEventData(SCAN, Status.IN_TRANSIT, "Departed facility")
    results = {
        moving.tracking_number: _result(moving, Status.IN_TRANSIT, scan),
        quiet.tracking_number: _result(quiet, Status.IN_TRANSIT),
    }
    shipments_apply_results(shipments=[moving, quiet], results=results, now=timezone.now())
    assert len(heard) == 1
    assert heard[0]["in_transaction"] is True
    (change,) = heard[0]["changes"]
    assert change.shipment_id == moving.pk
    assert (change.previous_status, change.status, change.new_events) == (
        "pending",
        "in_transit",
        1,
    )
    assert change.status_changed

    # The same answer again is no news: nothing is announced.
    shipments_apply_results(shipments=[moving], results=results, now=timezone.now())
    assert len(heard) == 1


def test_a_second_copy_of_the_same_pull_announces_nothing(heard):
    """Two copies of one chunk (a resumed chunk while its first message still waited) load the
    shipment before either writes; the second applies after the first committed. Its news is
    decided from the row as it is now, not as it was loaded: otherwise a second webhook
    delivery is written for the same change (seen in drills/news_out.py)."""
    store = make_store()
    shipment = make_shipment(store)
    first_copy = type(shipment).objects.get(pk=shipment.pk)
    second_copy = type(shipment).objects.get(pk=shipment.pk)  # loaded before the first wrote
    scan = TrackingEventData(SCAN, Status.IN_TRANSIT, "Departed facility")
    results = {shipment.tracking_number: _result(shipment, Status.IN_TRANSIT, scan)}

    assert shipments_apply_results(shipments=[first_copy], results=results, now=timezone.now())
    assert second_copy.status == "pending"
    changed = shipments_apply_results(shipments=[second_copy], results=results, now=timezone.now())

    assert changed == set()
    assert len(heard) == 1
    assert second_copy.status == "in_transit"
