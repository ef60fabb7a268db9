"""Celery tasks of shopper e-mails: each takes ids and calls the service it is named after."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from shipments.services import enqueue

from . import services
from .services.publishing import SHOPPER_EMAIL_SEND, SHOPPER_EMAILS_RECONCILE


@shared_task(name=SHOPPER_EMAIL_SEND, queue=enqueue.BULK, ignore_result=True)
def shopper_email_send(email_id: str) -> None:
    """Send one recorded e-mail (claimed first: a redelivered task sends nothing twice);
    transient SMTP failures are published again with backoff, never slept on."""
    outcome = services.shopper_email_send(email_id=email_id)
    if outcome.retry_in is not None:
        services.publish_send(email_id, countdown=outcome.retry_in)


@shared_task(name=SHOPPER_EMAILS_RECONCILE, queue=enqueue.BULK, ignore_result=True)
def shopper_emails_reconcile() -> None:
    """Beat: mark rows stuck in `sending` unknown; publish again the `pending` ones lost."""
    services.publish_sends(services.shopper_emails_reconcile(now=timezone.now()))
