"""The JSON shapes of the webhooks pages (the secret is never among them: the create and rotate
answers add it themselves, once)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from shipments.presenters import iso

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


def event_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in WebhookEvent.choices]


def endpoint_payload(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.is_active,
        "created_at": iso(endpoint.created_at),
        "failing_since": iso(endpoint.failing_since),
        "disabled_at": iso(endpoint.disabled_at),
        "detail_url": reverse("hooks:endpoint", args=[endpoint.pk]),
    }


def attempt_payload(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "manual": attempt.manual,
        "state": attempt.state,
        "sent_at": iso(attempt.sent_at),
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "response_snippet": attempt.response_snippet,
    }


def delivery_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event_id": str(delivery.uid),
        "type": delivery.event,
        "shipment_id": delivery.shipment_id,
        "state": delivery.state,
        "created_at": iso(delivery.created_at),
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.state == "pending" else None,
        "log": [attempt_payload(a) for a in getattr(delivery, "attempt_log", [])],
        "redeliver_url": reverse("hooks:redeliver", args=[delivery.endpoint_id, delivery.pk]),
    }


def secret_payload(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The answer to a create or a rotation: the one place the secret appears."""
    return {"id": endpoint.pk, "secret": endpoint.secret}
