"""Factories of the webhooks tests: an endpoint, and news for a shipment through the real apply
service (so deliveries are recorded exactly as in production)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hooks.models import WebhookEndpoint, WebhookEvent
from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.models import Shipment, Store
from shipments.services import shipments_apply_results

ALL_EVENTS = list(WebhookEvent.values)


def make_endpoint(store: Store, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        store=store, url=url, events=events or ALL_EVENTS, secret="whsec_test-secret"
    )


def news(
    shipment: Shipment,
    status: Status,
    description: str,
    *,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> None:
    """The carrier reports one more scan (and maybe another status) for `shipment`."""
    shipment.refresh_from_db()
    scan = TrackingEventData(at or timezone.now(), status, description)
    result = TrackingResult(shipment.carrier, shipment.tracking_number, status, events=(scan,))
    shipments_apply_results(
        shipments=[shipment],
        results={shipment.tracking_number: result},
        now=now or timezone.now(),
    )
