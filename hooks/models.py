"""What the webhooks keep: the merchant's endpoints, one delivery per (endpoint, event, change),
and every attempt at sending it (the delivery log the merchant sees)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shipments.models import Shipment, Store


class WebhookEvent(models.TextChoices):
    STATUS_CHANGED = "shipment.status_changed", _("Status changed")
    UPDATED = "shipment.updated", _("Any news (new events or status)")


class WebhookEndpoint(models.Model):
    """A URL of the merchant's that is told about shipments. The secret keys the signature; it is
    kept as is (signing needs it) and shown to the merchant only when created or rotated.

    `failing_since` is the first failed attempt with no success after it; `disabled_at` is set
    when Resync turned the endpoint off for failing too long (the merchant turning it off leaves
    it empty)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["store", "is_active"], name="webhookendpoint_store_active")]

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint. `body` holds the exact bytes sent on every attempt (built when
    the change is recorded); `uid` is the body's `id`. A sender claims the row by moving
    `claimed_until` forward with a conditional UPDATE, so two copies of a task never both send."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due"),
            models.Index(fields=["endpoint", "shipment", "state"], name="webhookdelivery_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.uid}"


class AttemptState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")


class WebhookAttempt(models.Model):
    """One POST of a delivery, or one asked for by the merchant (`manual`, queued first)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField(null=True, blank=True)  # set when it is sent
    manual = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=AttemptState.choices, default="done")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_snippet = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhookattempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
