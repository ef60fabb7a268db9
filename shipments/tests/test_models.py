from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from shipments.carriers.base import TrackingEventData
from shipments.models import Order, Shipment, ShipmentStatus, SyncRun, TrackingEvent

from .fixtures import make_shipment, make_store

pytestmark = pytest.mark.django_db


def test_order_number_is_unique_per_store_only(store, other_store):
    Order.objects.create(
        store=store, order_number="#1", customer_email="a@x.io", placed_at=timezone.now()
    )
    Order.objects.create(
        store=other_store, order_number="#1", customer_email="a@x.io", placed_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            store=store, order_number="#1", customer_email="b@x.io", placed_at=timezone.now()
        )


def test_tracking_number_is_unique_per_carrier_and_store(store, other_store):
    first = make_shipment(store, carrier="ups")
    make_shipment(other_store, carrier="ups", tracking_number=first.tracking_number)
    make_shipment(store, carrier="fedex", tracking_number=first.tracking_number)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_shipment(store, carrier="ups", tracking_number=first.tracking_number)


def test_empty_tracking_number_is_rejected_by_the_database(store):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_shipment(store, tracking_number="")


def test_the_same_event_is_stored_once_per_shipment(shipment):
    event = TrackingEventData(
        occurred_at=dt.datetime(2026, 3, 4, 9, 12, tzinfo=dt.UTC),
        status=ShipmentStatus.IN_TRANSIT,
        description="Departed facility",
        location="Leipzig, DE",
        raw_code="transit",
    )
    # The same instant written in another zone is the same event.
    same_event_other_zone = TrackingEventData(
        occurred_at=event.occurred_at.astimezone(dt.timezone(dt.timedelta(hours=-5))),
        status=event.status,
        description=event.description,
        location=event.location,
        raw_code=event.raw_code,
    )
    assert event.fingerprint == same_event_other_zone.fingerprint
    rows = [
        TrackingEvent(
            shipment=shipment,
            occurred_at=e.occurred_at,
            status=e.status,
            description=e.description,
            location=e.location,
            raw_code=e.raw_code,
            fingerprint=e.fingerprint,
        )
        for e in (event, same_event_other_zone)
    ]
    TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
    TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
    assert shipment.events.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackingEvent.objects.create(
            shipment=shipment,
            occurred_at=event.occurred_at,
            status=event.status,
            fingerprint=event.fingerprint,
        )


def test_run_counts_must_add_up(store):
    run = SyncRun.objects.create(store=store, window="7d", source="merchant", total=2)
    SyncRun.objects.filter(pk=run.pk).update(done=1, changed=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(done=2, changed=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(done=3, changed=3)


def test_public_tokens_are_unguessable_and_distinct():
    store = make_store()
    tokens = {make_shipment(store).public_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 32 for token in tokens)


def test_datetimes_are_time_zone_aware(shipment):
    shipment.refresh_from_db()
    assert timezone.is_aware(shipment.shipped_at)
    assert Shipment._meta.get_field("shipped_at").get_internal_type() == "DateTimeField"


def test_store_logo_must_be_https(store):
    from django.core.exceptions import ValidationError

    store.logo_url = "http://cdn.example.com/logo.png"
    with pytest.raises(ValidationError):
        store.full_clean()
    store.logo_url = "https://cdn.example.com/logo.png"
    store.full_clean()
