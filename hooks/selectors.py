"""The hooks app's reads for the merchant's pages, always scoped to the store."""

from __future__ import annotations

from django.db.models import QuerySet

from shipments.models import Store

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LOG_SIZE = 50


def webhook_endpoints_for_store(*, store: Store) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(store=store).order_by("created_at", "id")


def webhook_endpoint_for_store(*, store: Store, endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(store=store, pk=endpoint_id).first()


def webhook_deliveries_for_endpoint(
    *, endpoint: WebhookEndpoint, limit: int = LOG_SIZE
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, each with its attempts (newest first): two queries."""
    deliveries = list(
        endpoint.deliveries.select_related("shipment__order").order_by("-created_at", "-id")[:limit]
    )
    attempts: dict[int, list[WebhookAttempt]] = {d.pk: [] for d in deliveries}
    for attempt in WebhookAttempt.objects.filter(delivery_id__in=attempts).order_by(
        "-created_at", "-id"
    ):
        attempts[attempt.delivery_id].append(attempt)
    for delivery in deliveries:
        delivery.attempt_log = attempts[delivery.pk]
    return deliveries


def webhook_endpoints_turned_off(*, store: Store) -> list[WebhookEndpoint]:
    """Endpoints Resync turned off for failing (the Shipment tab's notice)."""
    return list(
        WebhookEndpoint.objects.filter(store=store, is_active=False, disabled_at__isnull=False)
    )
