"""Celery tasks of the webhooks: each takes ids and calls the service it is named after."""

from __future__ import annotations

from celery import shared_task

from shipments.services import enqueue

from . import services


@shared_task(name=services.DELIVERY_SEND, queue=enqueue.BULK, ignore_result=True)
def webhook_delivery_send(delivery_id: int) -> None:
    """One attempt of a delivery if it is still due (a redelivered message sends nothing)."""
    services.webhook_delivery_send(delivery_id=delivery_id)


@shared_task(name=services.ATTEMPT_SEND, queue=enqueue.INTERACTIVE, ignore_result=True)
def webhook_attempt_send(attempt_id: int) -> None:
    """A redelivery the merchant asked for (sent once, however often the message arrives)."""
    services.webhook_attempt_send(attempt_id=attempt_id)


@shared_task(name="hooks.tasks.webhook_deliveries_dispatch_due", ignore_result=True)
def webhook_deliveries_dispatch_due() -> None:
    """Beat: publish every due delivery, so a lost message or a dead worker loses nothing."""
    services.webhook_deliveries_dispatch_due()
