"""Deliveries are written with the change: `shipments_changed` hands over the list, inside the
apply service's transaction (shipments/signals.py).

A constant number of queries for any number of changes: none when no store of the changes has
an endpoint (`directory`, in Redis), else one for the stores' active endpoints, then — when
some endpoint wants the news — one for the shipments, one for their events and one insert. The
body is built here, once, and sent as these same bytes on every attempt.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from shipments.models import Shipment, TrackingEvent
from shipments.presenters import iso, shipment_detail_payload
from shipments.redis_client import RedisUnavailable
from shipments.services import enqueue
from shipments.signals import ShipmentChange

from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .directory import stores_maybe_with_endpoints

logger = logging.getLogger(__name__)

DELIVERY_SEND = "hooks.tasks.webhook_delivery_send"


def change_events(change: ShipmentChange) -> list[str]:
    """The webhook events a change is: every change is news; some are a new status too."""
    if change.status_changed:
        return [WebhookEvent.STATUS_CHANGED, WebhookEvent.UPDATED]
    return [WebhookEvent.UPDATED]


def shipment_details(shipment: Shipment, events: list[TrackingEvent]) -> dict[str, Any]:
    """The merchant's details JSON of the shipment (`GET /app/shipments/<id>/`), as of now."""
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    return shipment_detail_payload(
        shipment, events=events, tracking_url=site + shipment.get_tracking_url(), retry_after=0
    )


def delivery_body(*, uid: uuid.UUID, event: str, change: ShipmentChange, shipment: Any) -> str:
    payload = {
        "id": str(uid),
        "type": event,
        "created_at": iso(change.at),
        "data": {"shipment": shipment},
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def deliveries_record(*, changes: list[ShipmentChange]) -> list[WebhookDelivery]:
    """One pending delivery per (endpoint subscribed to the event, change); sent after commit."""
    store_ids = stores_maybe_with_endpoints(c.store_id for c in changes)
    if store_ids is None:  # Redis does not answer: ask the database
        store_ids = {c.store_id for c in changes}
    if not store_ids:
        return []
    by_store: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(store_id__in=store_ids, is_active=True).only(
        "id", "store_id", "events"
    ):
        by_store[endpoint.store_id].append(endpoint)
    wanted = [
        (change, event, endpoint)
        for change in changes
        for event in change_events(change)
        for endpoint in by_store.get(change.store_id, ())
        if event in endpoint.events
    ]
    if not wanted:
        return []
    shipment_ids = {change.shipment_id for change, _event, _endpoint in wanted}
    shipments = Shipment.objects.select_related("order").in_bulk(shipment_ids)
    events: dict[int, list[TrackingEvent]] = defaultdict(list)
    for row in TrackingEvent.objects.filter(shipment_id__in=shipment_ids).order_by(
        "shipment_id", "-occurred_at", "-id"
    ):
        events[row.shipment_id].append(row)
    details = {pk: shipment_details(s, events[pk]) for pk, s in shipments.items()}
    rows = []
    for change, event, endpoint in wanted:
        if change.shipment_id not in details:
            continue
        uid = uuid.uuid4()
        body = delivery_body(
            uid=uid, event=event, change=change, shipment=details[change.shipment_id]
        )
        rows.append(
            WebhookDelivery(
                uid=uid,
                endpoint_id=endpoint.pk,
                shipment_id=change.shipment_id,
                event=event,
                body=body,
                created_at=change.at,
                next_attempt_at=change.at,
            )
        )
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    transaction.on_commit(lambda: publish_sends(ids))
    return created


def publish_sends(delivery_ids: list[int]) -> None:
    """Ask a worker to send each delivery. A broker that does not answer loses nothing: the
    periodic dispatcher (`webhook_deliveries_due`) finds every due delivery in the table."""
    try:
        for pk in delivery_ids:
            enqueue.publish(DELIVERY_SEND, args=(pk,), queue=enqueue.BULK)
    except RedisUnavailable:
        logger.warning("webhook deliveries left for the dispatcher: broker unavailable")
