"""Celery tasks of the ways in: each takes ids and calls the service it is named after."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from shipments.services import enqueue

from .services import carrier_push, shopify


@shared_task(name=shopify.SHOPIFY_WEBHOOK_APPLY, queue=enqueue.BULK, ignore_result=True)
def shopify_webhook_apply(webhook_pk: int) -> None:
    """Apply one recorded Shopify webhook (a redelivered message changes nothing)."""
    shopify.shopify_webhook_apply(webhook_pk=webhook_pk)


@shared_task(name=shopify.SHOPIFY_WEBHOOKS_RECONCILE, queue=enqueue.BULK, ignore_result=True)
def shopify_webhooks_reconcile() -> None:
    """Publish again the webhooks still pending (a lost message), and forget old settled ones."""
    now = timezone.now()
    for pk in shopify.shopify_webhooks_pending(now=now):
        shopify.publish_apply(pk)
    shopify.shopify_webhooks_purge(now=now)


@shared_task(name=carrier_push.CARRIER_PUSH_APPLY, queue=enqueue.BULK, ignore_result=True)
def carrier_push_apply(push_pk: int) -> None:
    """Apply one recorded carrier push (a redelivered message changes nothing)."""
    carrier_push.carrier_push_apply(push_pk=push_pk)


@shared_task(name=carrier_push.CARRIER_PUSHES_RECONCILE, queue=enqueue.BULK, ignore_result=True)
def carrier_pushes_reconcile() -> None:
    """Publish again the pushes still pending (a lost message), and forget old settled ones."""
    now = timezone.now()
    for pk in carrier_push.carrier_pushes_pending(now=now):
        carrier_push.publish_apply(pk)
    carrier_push.carrier_pushes_purge(now=now)
