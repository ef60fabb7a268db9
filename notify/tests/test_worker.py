"""End to end: carrier news in the sandbox → a real resync through a real Celery worker → one
e-mail at the test SMTP server; the same status again sends nothing; after a one-click
unsubscribe nothing more is sent; an old parcel mails nobody."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone

from notify.models import ShopperEmail
from shipments import services
from shipments.models import ResyncJob
from shipments.tests.fixtures import make_shipment, make_store
from shipments.tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _resync(shipment) -> ResyncJob:
    verdict = services.shipment_resync(shipment=shipment, source="merchant", force=True)
    job = wait_for(lambda: (j := ResyncJob.objects.get(pk=verdict.job.pk)).is_finished and j, 30)
    assert job.state == "succeeded", job.message
    return job


FINISHED = {"delivered", "exception", "expired", "available_for_pickup"}


def moving_shipment(store, sandbox, **fields):
    """A DHL shipment whose sandbox parcel is still on its way now. The sandbox's parcels follow
    a plan in real time, so a given number may already be delivered today: pick one that is not,
    and the news a test adds is the parcel's latest."""
    for _ in range(50):
        shipment = make_shipment(store, carrier="dhl", **fields)
        (answer,) = sandbox.track(shipment.tracking_number)["results"]
        if answer["status"] not in FINISHED:
            return shipment
    raise AssertionError("the sandbox has no parcel on its way")


def _settled() -> None:
    """Every e-mail recorded so far has left `pending` (the worker is done with them)."""
    wait_for(lambda: not ShopperEmail.objects.filter(state__in=["pending", "sending"]).exists())


def test_news_mails_the_shopper_once_and_unsubscribe_stops_it(worker, sandbox, mailbox):
    store = make_store(display_name="Northwind")
    shipment = moving_shipment(store, sandbox)
    sandbox.add_event(shipment.tracking_number, status="out_for_delivery", description="On the van")

    _resync(shipment)

    wait_for(lambda: len(mailbox.messages) >= 1)
    _settled()
    (message,) = mailbox.messages
    email = ShopperEmail.objects.get(shipment=shipment)
    assert (email.status, email.state) == ("out_for_delivery", "sent")
    assert message["To"] == shipment.order.customer_email
    link = f"http://resync.test{shipment.get_tracking_url()}"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip()
    assert unsubscribe.startswith("<http://resync.test/notify/unsubscribe/")

    # (b) The same status again (another scan, still out for delivery): no second e-mail.
    sandbox.add_event(shipment.tracking_number, status="out_for_delivery", description="Still")
    assert _resync(shipment).changed
    time.sleep(1)
    _settled()
    assert len(mailbox.messages) == 1

    # (c) The shopper's mail client unsubscribes with one click; the next news mails nobody.
    path = unsubscribe.strip("<>").removeprefix("http://resync.test")
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    sandbox.add_event(shipment.tracking_number, status="delivered", description="Delivered")
    _resync(shipment)
    time.sleep(1)
    _settled()
    assert len(mailbox.messages) == 1
    assert not ShopperEmail.objects.filter(shipment=shipment, status="delivered").exists()


def test_an_old_parcel_mails_nobody(worker, sandbox, mailbox):
    store = make_store()
    old = make_shipment(store, carrier="dhl", shipped_at=timezone.now() - dt.timedelta(days=20))
    sandbox.add_event(old.tracking_number, status="delivered", description="Delivered")
    _resync(old)
    time.sleep(1)
    assert not ShopperEmail.objects.filter(shipment=old).exists()
    assert [m for m in mailbox.messages if m["To"] == old.order.customer_email] == []


def test_a_greylisting_server_gets_the_email_once_on_a_later_try(worker, sandbox, mailbox):
    """451 to the first attempt: the worker publishes the task again with a backoff
    (NOTIFY_RETRY_BASE_SECONDS is 0.5 s in tests) and the second attempt delivers it, once."""
    mailbox.refuse("451 4.7.1 Greylisted, please try again", times=1)
    store = make_store()
    shipment = moving_shipment(store, sandbox)
    sandbox.add_event(shipment.tracking_number, status="delivered", description="Front door")
    _resync(shipment)
    email = wait_for(
        lambda: (
            (e := ShopperEmail.objects.filter(shipment=shipment).first())
            and e.state == "sent"
            and e
        ),
        30,
    )
    assert email.attempts == 2
    assert email.last_error == ""  # cleared once sent
    assert len(mailbox.messages) == 1
