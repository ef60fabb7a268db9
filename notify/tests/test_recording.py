"""Recording e-mails in the apply service's transaction: once per shipment and status, ever;
nothing for stores that turned them off, unselected statuses, unsubscribed orders or old
parcels; a constant number of queries for a whole bulk chunk."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notify import services
from notify.models import NotificationSettings, OrderUnsubscribe, ShopperEmail, shopper_email_id
from notify.services.publishing import SHOPPER_EMAIL_SEND
from shipments.models import Order
from shipments.signals import ShipmentChange
from shipments.tests.fixtures import make_shipment, make_store

from .helpers import apply

pytestmark = pytest.mark.django_db


def test_a_new_status_records_one_email_and_publishes_it_after_commit(
    store, published, django_capture_on_commit_callbacks
):
    shipment = make_shipment(store)
    with django_capture_on_commit_callbacks(execute=True):
        apply((shipment, "in_transit"))
    (email,) = ShopperEmail.objects.all()
    assert (email.shipment_id, email.status, email.state) == (shipment.pk, "in_transit", "pending")
    assert email.to_email == shipment.order.customer_email
    assert email.pk == shopper_email_id(shipment.pk, "in_transit")
    assert published == [(SHOPPER_EMAIL_SEND, (str(email.pk),), "bulk")]


def test_nothing_is_published_when_the_transaction_rolls_back(store, published):
    shipment = make_shipment(store)
    apply((shipment, "in_transit"))  # the test's transaction never commits
    assert ShopperEmail.objects.count() == 1
    assert published == []


def test_the_same_status_again_is_never_a_second_email(store):
    shipment = make_shipment(store)
    apply((shipment, "out_for_delivery"))
    apply((shipment, "failed_attempt"))
    apply((shipment, "out_for_delivery"))  # back again: already told
    assert sorted(ShopperEmail.objects.values_list("status", flat=True)) == [
        "failed_attempt",
        "out_for_delivery",
    ]


def test_skips_what_the_store_and_the_shopper_did_not_ask_for(store, other_store):
    NotificationSettings.objects.create(store=other_store, enabled=False)
    off = make_shipment(other_store)
    unsubscribed = make_shipment(store)
    OrderUnsubscribe.objects.create(order=unsubscribed.order)
    no_email = make_shipment(store)
    Order.objects.filter(pk=no_email.order_id).update(customer_email="")
    pending_only = make_shipment(store, status="info_received")
    apply((off, "in_transit"), (unsubscribed, "in_transit"), (no_email, "in_transit"))
    apply((pending_only, "pending"))  # never a status to tell about
    assert not ShopperEmail.objects.exists()

    NotificationSettings.objects.create(store=store, enabled=True, statuses=["delivered"])
    chosen = make_shipment(store)
    apply((chosen, "in_transit"))
    assert not ShopperEmail.objects.exists()
    apply((chosen, "delivered"))
    assert list(ShopperEmail.objects.values_list("status", flat=True)) == ["delivered"]


def test_parcels_shipped_before_the_horizon_mail_nobody(store, settings):
    settings.NOTIFY_HORIZON_DAYS = 14
    old = make_shipment(store, shipped_at=timezone.now() - dt.timedelta(days=15))
    recent = make_shipment(store, shipped_at=timezone.now() - dt.timedelta(days=13))
    apply((old, "delivered"), (recent, "delivered"))
    assert list(ShopperEmail.objects.values_list("shipment_id", flat=True)) == [recent.pk]


def test_a_whole_chunk_costs_two_queries_and_quiet_chunks_none(store, published):
    shipments = [make_shipment(store) for _ in range(50)]
    changes = [
        ShipmentChange(
            shipment_id=s.pk,
            store_id=store.pk,
            order_id=s.order_id,
            previous_status="pending",
            status="in_transit",
            new_events=1,
            shipped_at=s.shipped_at,
            at=timezone.now(),
        )
        for s in shipments
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = services.shopper_emails_record(changes=changes)
    assert len(ids) == 50
    assert ShopperEmail.objects.count() == 50
    assert len(queries) == 2  # one read, one insert

    again = [ShipmentChange(**{**c.__dict__, "new_events": 0}) for c in changes]
    with CaptureQueriesContext(connection) as queries:
        services.shopper_emails_record(changes=again)
    assert len(queries) == 2
    assert ShopperEmail.objects.count() == 50

    quiet = [ShipmentChange(**{**c.__dict__, "previous_status": "in_transit"}) for c in changes]
    with CaptureQueriesContext(connection) as queries:
        assert services.shopper_emails_record(changes=quiet) == []
    assert len(queries) == 0  # news without a new status: not even a read


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_applies_of_the_same_status_record_one_row(published):
    """Two workers apply the same news for the same shipment at once (a resync racing a bulk
    chunk): both transactions record, the database keeps one row."""
    store = make_store()
    shipment = make_shipment(store)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def race() -> None:
        try:
            barrier.wait(timeout=10)
            apply((shipment, "out_for_delivery"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert ShopperEmail.objects.filter(shipment=shipment).count() == 1
    # Both may publish the send; the claim lets one of them send (test_sending).
    assert {args for _, args, _ in published} == {
        (str(shopper_email_id(shipment.pk, "out_for_delivery")),)
    }
