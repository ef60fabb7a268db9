"""Sending over real SMTP (the test server of mail_fixtures): what goes out, never twice;
transient failures go back to pending with a backoff, permanent ones fail for good; the
reconciler's two jobs. The task function is called here directly (test_worker: a real worker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notify import services, tasks
from notify.models import OrderUnsubscribe, ShopperEmail
from notify.services.publishing import SHOPPER_EMAIL_SEND
from shipments.tests.fixtures import make_shipment

from .helpers import apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def email(store) -> ShopperEmail:
    store.logo_url = "https://cdn.example.com/acme.png"
    store.save()
    shipment = make_shipment(store)
    apply((shipment, "out_for_delivery"))
    return ShopperEmail.objects.get()


def test_sends_one_email_with_the_tracking_link_and_one_click_unsubscribe(
    email, smtp, mailbox, published
):
    tasks.shopper_email_send(str(email.pk))

    (message,) = mailbox.messages
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 1)
    assert email.sent_at is not None
    shipment = email.shipment
    assert message["To"] == email.to_email
    assert "Acme" in message["From"]
    assert message["Subject"] == f"Your order {email.order.order_number} is out for delivery"
    assert message["Message-ID"] == f"<shopper-email.{email.pk}@localhost>"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://resync.test/notify/unsubscribe/")
    assert unsubscribe.endswith("/>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = f"http://resync.test{shipment.get_tracking_url()}"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert link in text
    assert f'href="{link}"' in html
    assert "Scanned (out_for_delivery)" in text  # the latest event
    assert published == []

    # A redelivered task finds it sent: nothing more goes out.
    tasks.shopper_email_send(str(email.pk))
    assert len(mailbox.messages) == 1


def test_a_claimed_email_is_never_sent_again(email, smtp, mailbox):
    """Another delivery of the task already claimed it (or died after SMTP): nothing is sent."""
    ShopperEmail.objects.filter(pk=email.pk).update(state="sending", claimed_at=timezone.now())
    outcome = services.shopper_email_send(email_id=str(email.pk))
    assert outcome.state == "sending"
    assert mailbox.messages == []


def test_451_is_retried_with_backoff_and_sent_once_later(email, smtp, mailbox, published):
    mailbox.refuse("451 4.3.0 Greylisted, try again later", times=1)

    tasks.shopper_email_send(str(email.pk))
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("pending", 1)
    assert "451" in email.last_error
    assert email.next_attempt_at > timezone.now() - dt.timedelta(seconds=1)
    ((name, args, queue),) = published
    assert (name, args, queue) == (SHOPPER_EMAIL_SEND, (str(email.pk),), "bulk")
    assert mailbox.messages == []

    tasks.shopper_email_send(str(email.pk))  # the retry, when its countdown is over
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 2)
    assert len(mailbox.messages) == 1
    assert len(published) == 1


def test_a_server_that_is_down_is_retried(email, smtp, settings, mailbox, published):
    from harness.ports import free_port

    settings.EMAIL_PORT = free_port()  # nothing listens there
    outcome = services.shopper_email_send(email_id=str(email.pk))
    assert outcome.state == "pending"
    assert outcome.retry_in is not None
    email.refresh_from_db()
    assert "cannot connect" in email.last_error

    settings.EMAIL_PORT = smtp.port
    assert services.shopper_email_send(email_id=str(email.pk)).state == "sent"
    assert len(mailbox.messages) == 1


def test_550_fails_for_good_and_is_not_retried(email, smtp, mailbox, published):
    mailbox.refuse("550 5.1.1 No such mailbox", times=1)
    tasks.shopper_email_send(str(email.pk))
    email.refresh_from_db()
    assert email.state == "failed"
    assert "550" in email.last_error
    assert published == []
    tasks.shopper_email_send(str(email.pk))
    assert mailbox.messages == []


def test_out_of_attempts_is_failed(email, smtp, mailbox, settings, published):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    mailbox.refuse("421 4.7.0 Slow down", times=5)
    assert services.shopper_email_send(email_id=str(email.pk)).state == "pending"
    assert services.shopper_email_send(email_id=str(email.pk)).state == "failed"
    assert mailbox.messages == []


def test_an_order_unsubscribed_before_sending_is_not_sent(email, smtp, mailbox):
    OrderUnsubscribe.objects.create(order=email.order)
    assert services.shopper_email_send(email_id=str(email.pk)).state == "cancelled"
    assert mailbox.messages == []


def test_the_reconciler_marks_stuck_sends_unknown_and_republishes_lost_ones(store, published):
    now = timezone.now()
    stuck, lost, fresh, waiting = (make_shipment(store) for _ in range(4))
    apply((stuck, "in_transit"), (lost, "in_transit"), (fresh, "in_transit"))
    apply((waiting, "in_transit"))
    ShopperEmail.objects.filter(shipment=stuck).update(
        state="sending", claimed_at=now - dt.timedelta(hours=1)
    )
    ShopperEmail.objects.filter(shipment__in=[lost, waiting]).update(
        created_at=now - dt.timedelta(hours=1)
    )
    ShopperEmail.objects.filter(shipment=waiting).update(
        next_attempt_at=now + dt.timedelta(minutes=5)  # a retry still counting down
    )

    tasks.shopper_emails_reconcile()

    assert ShopperEmail.objects.get(shipment=stuck).state == "unknown"
    lost_id = str(ShopperEmail.objects.get(shipment=lost).pk)
    assert published == [(SHOPPER_EMAIL_SEND, (lost_id,), "bulk")]
