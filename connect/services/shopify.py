"""Shopify webhooks: recorded once (the dedupe and the durable copy of the work), then applied on
a worker through the ingest service every way in ends in.

Receiving is fast and stores nothing for a refused webhook: the view checks the signature and
finds the store; `shopify_webhook_record` writes one row, unique per (store, webhook id), so a
redelivery — even two copies at once — finds the row and changes nothing. `app/uninstalled` is
applied at once (the store is disconnected; later webhooks are refused; its data stays).

Applying (`shopify_webhook_apply`) holds a lock on the webhook's order, so one order's webhooks
apply one at a time (other orders in parallel), and compares Shopify's `updated_at` with what
was applied: an older order or fulfillment than the one already applied changes nothing, so
out-of-order deliveries end in the newest state.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shipments import services as shipment_services
from shipments.models import Order, Shipment, Store
from shipments.services import Incoming, enqueue
from shipments.services.intake import carrier_resolve

from ..models import ShopifyWebhook
from ..shopify.payloads import (
    BadPayload,
    FulfillmentData,
    OrderData,
    parse_fulfillment,
    parse_order,
    timestamp,
)

logger = logging.getLogger("connect.services")

SHOPIFY_WEBHOOK_APPLY = "connect.tasks.shopify_webhook_apply"
SHOPIFY_WEBHOOKS_RECONCILE = "connect.tasks.shopify_webhooks_reconcile"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
UNINSTALLED = "app/uninstalled"
TOPICS = ORDER_TOPICS | FULFILLMENT_TOPICS | {UNINSTALLED}
# The first key of our advisory locks: "Shopify orders" (any int4 other code does not use).
ADVISORY_LOCK_SPACE = 0x5E0F
# Applying more times than this (a payload that keeps failing) marks the webhook failed.
MAX_ATTEMPTS = 5


def store_for_shop(shop_domain: str) -> Store | None:
    """The connected store of a shop domain (None: unknown, or disconnected by an uninstall)."""
    domain = (shop_domain or "").strip().lower()
    if not domain:
        return None
    return Store.objects.filter(shop_domain=domain, shop_disconnected_at__isnull=True).first()


@dataclass(frozen=True)
class Recorded:
    webhook: ShopifyWebhook | None
    duplicate: bool


def shopify_webhook_record(
    *,
    store: Store,
    topic: str,
    webhook_id: str,
    payload: Any,
    api_version: str = "",
    triggered_at: str = "",
) -> Recorded:
    """Record a verified webhook before answering it (200 means the work is durable), and
    publish its application on commit. The same webhook id again records nothing."""
    now = timezone.now()
    state = ShopifyWebhook.State.PENDING if topic in TOPICS else ShopifyWebhook.State.IGNORED
    try:
        with transaction.atomic():
            webhook = ShopifyWebhook.objects.create(
                store=store,
                webhook_id=webhook_id[:64],
                topic=topic[:64],
                api_version=api_version[:16],
                triggered_at=timestamp(triggered_at),
                received_at=now,
                payload=payload,
                state=state,
            )
            if topic == UNINSTALLED:
                _disconnect(store, now)
                webhook.state = ShopifyWebhook.State.APPLIED
                webhook.applied_at = now
                webhook.save(update_fields=["state", "applied_at"])
            elif state == ShopifyWebhook.State.PENDING:
                pk = webhook.pk
                transaction.on_commit(lambda: publish_apply(pk), robust=True)
    except IntegrityError:
        logger.info("shopify webhook %s seen before: nothing changes", webhook_id[:64])
        return Recorded(None, duplicate=True)
    return Recorded(webhook, duplicate=False)


def publish_apply(webhook_pk: int) -> None:
    enqueue.publish(SHOPIFY_WEBHOOK_APPLY, args=(webhook_pk,), queue=enqueue.BULK)


def _disconnect(store: Store, now: dt.datetime) -> None:
    Store.objects.filter(pk=store.pk, shop_disconnected_at__isnull=True).update(
        shop_disconnected_at=now
    )
    logger.warning("store %s disconnected: the Shopify app was uninstalled", store.pk)


def shopify_webhook_apply(*, webhook_pk: int) -> str:
    """Apply one recorded webhook (on a worker). Safe to run twice: only a pending webhook is
    applied, under its row lock. Returns the webhook's state afterwards."""
    now = timezone.now()
    try:
        with transaction.atomic():
            webhook = (
                # Only the webhook's row: locking the joined store too would serialise the
                # store's webhooks (the order lock below is what keeps one order's in line).
                ShopifyWebhook.objects.select_for_update(of=("self",))
                .select_related("store")
                .filter(pk=webhook_pk)
                .first()
            )
            if webhook is None or webhook.state != ShopifyWebhook.State.PENDING:
                return webhook.state if webhook else "missing"
            webhook.attempts += 1
            try:
                with transaction.atomic():
                    _apply(webhook.store, webhook.topic, webhook.payload, now)
                webhook.state = ShopifyWebhook.State.APPLIED
                webhook.applied_at = now
                webhook.error = ""
            except BadPayload as exc:
                webhook.state = ShopifyWebhook.State.FAILED
                webhook.error = str(exc)[:500]
                logger.warning("shopify webhook %s not applied: %s", webhook.pk, exc)
            webhook.save(update_fields=["state", "applied_at", "error", "attempts"])
            return webhook.state
    except Exception:
        logger.exception("shopify webhook %s: applying failed; the reconciler retries", webhook_pk)
        _count_failed_attempt(webhook_pk)
        raise


def _count_failed_attempt(webhook_pk: int) -> None:
    """An unexpected error rolled the attempt back: count it, and give up after MAX_ATTEMPTS."""
    with transaction.atomic():
        webhook = ShopifyWebhook.objects.select_for_update().filter(pk=webhook_pk).first()
        if webhook is None or webhook.state != ShopifyWebhook.State.PENDING:
            return
        webhook.attempts += 1
        if webhook.attempts >= MAX_ATTEMPTS:
            webhook.state = ShopifyWebhook.State.FAILED
            webhook.error = "gave up after repeated errors (see the worker log)"
        webhook.save(update_fields=["attempts", "state", "error"])


def _apply(store: Store, topic: str, payload: Any, now: dt.datetime) -> None:
    if topic in ORDER_TOPICS:
        order_data = parse_order(payload)
        _lock_order(store, order_data.external_id)
        order = _order_upsert(store, order_data, now)
        for fulfillment in order_data.fulfillments:
            _fulfillment_sync(store, order, fulfillment, now)
    elif topic in FULFILLMENT_TOPICS:
        fulfillment = parse_fulfillment(payload)
        _lock_order(store, fulfillment.order_external_id)
        _fulfillment_sync(store, _order_for_fulfillment(store, fulfillment, now), fulfillment, now)


def _lock_order(store: Store, order_external_id: str) -> None:
    """One order's webhooks apply one at a time, so the `updated_at` comparisons hold; other
    orders, of the same store too, apply in parallel. On PostgreSQL a transaction-scoped advisory
    lock (there may be no row to lock yet); SQLite runs one write transaction at a time anyway."""
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{store.pk}:{order_external_id}".encode()) - 2**31  # int4
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_SPACE, key])


def _newer(incoming: dt.datetime | None, applied: dt.datetime | None) -> bool:
    """Whether Shopify's `incoming` state is newer than the one applied (unknown times apply)."""
    return applied is None or incoming is None or incoming > applied


def _order_upsert(store: Store, data: OrderData, now: dt.datetime) -> Order:
    order = (
        Order.objects.filter(store=store, external_id=data.external_id).first()
        or Order.objects.filter(store=store, order_number=data.order_number).first()
    )
    if order is None:
        return Order.objects.create(
            store=store,
            order_number=data.order_number,
            customer_email=data.email,
            customer_name=data.customer_name,
            placed_at=data.created_at or now,
            external_id=data.external_id,
            external_updated_at=data.updated_at,
        )
    if not _newer(data.updated_at, order.external_updated_at):
        return order  # an older state of the order than the one applied
    if data.order_number != order.order_number and not (
        Order.objects.filter(store=store, order_number=data.order_number).exists()
    ):
        order.order_number = data.order_number
    order.customer_email = data.email or order.customer_email
    order.customer_name = data.customer_name or order.customer_name
    order.placed_at = data.created_at or order.placed_at
    order.external_id = data.external_id
    order.external_updated_at = data.updated_at or order.external_updated_at
    order.save()
    return order


def _order_for_fulfillment(store: Store, data: FulfillmentData, now: dt.datetime) -> Order:
    """The fulfillment's order; made from the fulfillment when its order has not arrived yet
    (the order's own webhook fills it in later: it has no `updated_at` of its own yet)."""
    order = Order.objects.filter(store=store, external_id=data.order_external_id).first()
    if order is not None:
        return order
    number = data.order_number or f"#{data.order_external_id}"[:64]
    order = Order.objects.filter(store=store, order_number=number).first()
    if order is not None:
        if not order.external_id:
            order.external_id = data.order_external_id
            order.save(update_fields=["external_id"])
        return order
    return Order.objects.create(
        store=store,
        order_number=number,
        customer_email=data.email,
        placed_at=data.created_at or now,
        external_id=data.order_external_id,
    )


def _fulfillment_sync(store: Store, order: Order, data: FulfillmentData, now: dt.datetime) -> None:
    """Make the store's shipments of this fulfillment what Shopify says now: one per tracking
    number; a changed number replaces its shipment (same tracking link, old events gone); a
    cancelled fulfillment's shipments leave the schedule and the tracking page."""
    existing = list(Shipment.objects.filter(store=store, external_id=data.external_id))
    applied = max((s.external_updated_at for s in existing if s.external_updated_at), default=None)
    if existing and not _newer(data.updated_at, applied):
        return  # this state of the fulfillment, or a newer one, is already applied
    if not data.ships:
        shipment_services.shipments_cancel(
            store=store, shipment_ids=[s.pk for s in existing], now=now
        )
        Shipment.objects.filter(pk__in=[s.pk for s in existing]).update(
            external_updated_at=data.updated_at
        )
        return
    numbers = list(data.tracking_numbers)
    kept = {s.tracking_number: s for s in existing if s.tracking_number in numbers}
    gone = [s for s in existing if s.tracking_number not in kept]
    added = [n for n in numbers if n not in kept]
    # A changed number replaces its shipment; a changed carrier name corrects the carrier.
    for shipment, number in zip(gone, added, strict=False):
        _retrack(store, shipment, number, data.tracking_company, now)
    for shipment in kept.values():
        match = carrier_resolve(
            store=store, name=data.tracking_company, tracking_number=shipment.tracking_number
        )
        if match.code and match.code != shipment.carrier and match.found_by != "number_format":
            _retrack(store, shipment, shipment.tracking_number, data.tracking_company, now)
    if len(gone) > len(added):
        shipment_services.shipments_cancel(
            store=store, shipment_ids=[s.pk for s in gone[len(added) :]], now=now
        )
    shipment_services.shipments_ingest(
        store=store,
        rows=[
            Incoming(
                order_number=order.order_number,
                email=order.customer_email,
                tracking_number=number,
                carrier=data.tracking_company,
                shipped_at=data.created_at,
                external_id=data.external_id,
                external_updated_at=data.updated_at,
            )
            for number in numbers
        ],
        now=now,
    )


def _retrack(store: Store, shipment: Shipment, number: str, company: str, now: dt.datetime) -> None:
    code = carrier_resolve(store=store, name=company, tracking_number=number).code
    try:
        shipment_services.shipment_retrack(
            shipment=shipment, tracking_number=number, carrier=code, now=now
        )
    except shipment_services.TrackingNumberTaken:
        # The store tracks that parcel already (another way in): that shipment takes over.
        shipment_services.shipments_cancel(store=store, shipment_ids=[shipment.pk], now=now)


def shopify_webhooks_pending(*, now: dt.datetime) -> list[int]:
    """Recorded webhooks still pending a minute after they arrived (their message was lost, or
    applying failed): to publish again. Applying twice is harmless."""
    cutoff = now - dt.timedelta(seconds=60)
    return list(
        ShopifyWebhook.objects.filter(state=ShopifyWebhook.State.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )


def shopify_webhooks_purge(*, now: dt.datetime) -> int:
    """Forget settled webhooks older than SHOPIFY_WEBHOOK_RETENTION_DAYS (longer than Shopify
    retries a delivery, so a redelivery is always still recognised)."""
    cutoff = now - dt.timedelta(days=settings.SHOPIFY_WEBHOOK_RETENTION_DAYS)
    deleted, _ = (
        ShopifyWebhook.objects.filter(received_at__lt=cutoff)
        .exclude(state=ShopifyWebhook.State.PENDING)
        .delete()
    )
    return deleted
