"""What the ways in keep: Shopify webhooks and carrier pushes received (the dedupe record and the
durable copy of the work) and the merchant API's keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shipments.models import Store


class ShopifyWebhook(models.Model):
    """One verified Shopify webhook, recorded before it is answered and applied on a worker.

    `(store, webhook_id)` is unique: a redelivered webhook (same `X-Shopify-Webhook-Id`) finds
    its row and changes nothing, even when two copies arrive at once. Applied rows are deleted
    after `SHOPIFY_WEBHOOK_RETENTION_DAYS`, longer than Shopify goes on retrying.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shopify_webhooks")
    webhook_id = models.CharField(max_length=64)
    topic = models.CharField(max_length=64)
    api_version = models.CharField(max_length=16, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "webhook_id"], name="shopifywebhook_unique_id_per_store"
            )
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="shopifywebhook_state_received")
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class CarrierPush(models.Model):
    """One verified push from a tracking provider (17TRACK, AfterShip webhooks), recorded before
    it is answered and applied on a worker through the same writer as a pull.

    `(provider, dedupe_key)` is unique: the key is the SHA-256 of the raw body, so the same push
    delivered twice (a provider's retry) finds its row and changes nothing. Settled rows are
    deleted after `CARRIER_PUSH_RETENTION_DAYS`.
    """

    class Provider(models.TextChoices):
        SEVENTEENTRACK = "17track", "17TRACK"
        AFTERSHIP = "aftership", "AfterShip"

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        STALE = "stale", _("Older than shown")  # an older push after a newer one
        IGNORED = "ignored", _("Ignored")  # an event we do not act on, or no shipment left
        FAILED = "failed", _("Failed")

    provider = models.CharField(max_length=16, choices=Provider.choices)
    tracking_number = models.CharField(_("number"), max_length=64)
    event = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Only verified pushes are recorded (a bad signature is refused before anything is kept).
    verified = models.BooleanField(default=True)
    dedupe_key = models.CharField(max_length=64)
    body = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # The pushed state's own time (AfterShip `updated_at`, else its latest event), once applied.
    source_time = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "dedupe_key"], name="carrierpush_unique_body_per_provider"
            )
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="carrierpush_state_received"),
            models.Index(fields=["provider", "tracking_number"], name="carrierpush_number"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.tracking_number}"


class ApiKey(models.Model):
    """A store's key for the merchant API. Only its SHA-256 is kept: the key is 256 random bits,
    so a fast hash is enough (no password stretching needed) and lookups stay one index away."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    # The key's first characters, shown in lists so a merchant can tell keys apart.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="apikey_store_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
