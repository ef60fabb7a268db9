"""Deliveries are written by the `shipments_changed` receiver, inside the change's transaction,
with a constant number of queries, one per (subscribed endpoint, event, change)."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hooks import services
from hooks.models import WebhookDelivery
from hooks.services import deliveries_record, directory
from shipments.carriers.statuses import Status
from shipments.redis_client import RedisError, get_redis
from shipments.signals import ShipmentChange
from shipments.tests.fixtures import make_shipment, make_store

from .helpers import make_endpoint, news

pytestmark = pytest.mark.django_db


def _change(shipment, previous="pending", status="in_transit") -> ShipmentChange:
    return ShipmentChange(
        shipment_id=shipment.pk,
        store_id=shipment.store_id,
        order_id=shipment.order_id,
        previous_status=previous,
        status=status,
        new_events=1,
        shipped_at=shipment.shipped_at,
        at=timezone.now(),
    )


def test_news_with_a_new_status_is_both_events_in_order(published, settings):
    settings.SITE_URL = "https://resync.example.com"
    store = make_store()
    endpoint = make_endpoint(store, "https://hooks.example.com/in")
    shipment = make_shipment(store)
    news(shipment, Status.IN_TRANSIT, "Departed facility")

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.event for d in deliveries] == ["shipment.status_changed", "shipment.updated"]
    assert {d.endpoint_id for d in deliveries} == {endpoint.pk}
    body = json.loads(deliveries[0].body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["id"] == str(deliveries[0].uid)
    assert body["type"] == "shipment.status_changed"
    details = body["data"]["shipment"]
    assert details["id"] == shipment.pk
    assert details["status"] == "in_transit"
    assert details["events"][0]["description"] == "Departed facility"
    assert details["tracking_url"] == "https://resync.example.com" + shipment.get_tracking_url()
    assert {"order_number", "tracking_number", "carrier", "status_label"} <= set(details)

    # The same status again with a new scan is news, not a new status.
    news(shipment, Status.IN_TRANSIT, "Arrived at hub")
    assert list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))[2:] == [
        "shipment.updated"
    ]


def test_only_subscribed_active_endpoints_of_the_store_get_a_delivery(published):
    store, other = make_store(), make_store()
    wants_status = make_endpoint(store, "https://a.example.com/", ["shipment.status_changed"])
    wants_all = make_endpoint(store, "https://b.example.com/")
    off = make_endpoint(store, "https://c.example.com/")
    off.is_active = False
    off.save()
    make_endpoint(other, "https://d.example.com/")
    news(make_shipment(store), Status.IN_TRANSIT, "Departed")

    rows = set(WebhookDelivery.objects.values_list("endpoint_id", "event"))
    assert rows == {
        (wants_status.pk, "shipment.status_changed"),
        (wants_all.pk, "shipment.status_changed"),
        (wants_all.pk, "shipment.updated"),
    }


def test_queries_do_not_grow_with_the_number_of_changes():
    store = make_store()
    make_endpoint(store, "https://hooks.example.com/in")
    few = [make_shipment(store) for _ in range(2)]
    many = [make_shipment(store) for _ in range(40)]
    with CaptureQueriesContext(connection) as small:
        deliveries_record(changes=[_change(s) for s in few])
    with CaptureQueriesContext(connection) as large:
        deliveries_record(changes=[_change(s) for s in many])
    assert len(large) == len(small) <= 4
    assert WebhookDelivery.objects.count() == 2 * (len(few) + len(many))


def test_stores_without_endpoints_cost_no_query():
    """The bulk path pays nothing for webhooks unless a store of the batch has an endpoint."""
    shipments = [make_shipment(make_store()) for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert deliveries_record(changes=[_change(s) for s in shipments]) == []
    assert len(queries) == 0


def test_the_database_decides_when_redis_cannot_say(monkeypatch):
    store = make_store()
    make_endpoint(store, "https://hooks.example.com/in")
    monkeypatch.setattr(directory, "get_redis", _broken_redis)
    assert len(deliveries_record(changes=[_change(make_shipment(store))])) == 2


def test_a_lost_directory_comes_back_with_the_dispatcher():
    store = make_store()
    make_endpoint(store, "https://hooks.example.com/in")
    get_redis().delete(directory.KEY)  # a Redis restart
    assert directory.stores_maybe_with_endpoints([store.pk]) == set()
    services.webhook_deliveries_dispatch_due()
    assert directory.stores_maybe_with_endpoints([store.pk]) == {store.pk}


def _broken_redis():
    class Broken:
        def smismember(self, *args):
            raise RedisError("down")

    return Broken()


def test_a_rolled_back_change_leaves_no_delivery(published, django_capture_on_commit_callbacks):
    store = make_store()
    make_endpoint(store, "https://hooks.example.com/in")
    shipment = make_shipment(store)
    seen: list[int] = []

    def change_then_fail() -> None:
        with transaction.atomic():
            news(shipment, Status.IN_TRANSIT, "Departed")
            seen.append(WebhookDelivery.objects.count())  # written with the change …
            raise RuntimeError("a later write of the same transaction failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        change_then_fail()
    assert seen == [2]
    assert WebhookDelivery.objects.count() == 0  # … and gone with it
    assert published == []


def test_committed_news_publishes_one_send_per_delivery(
    published, django_capture_on_commit_callbacks
):
    store = make_store()
    make_endpoint(store, "https://hooks.example.com/in")
    with django_capture_on_commit_callbacks(execute=True):
        news(make_shipment(store), Status.IN_TRANSIT, "Departed")
    ids = sorted(WebhookDelivery.objects.values_list("id", flat=True))
    assert sorted(args[0] for name, args, queue in published if name.startswith("hooks.")) == ids
