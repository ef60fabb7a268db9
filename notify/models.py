"""Shopper e-mails: the store's choices, one row per e-mail (shipment and status, once ever), and
the orders whose shopper asked for no more."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shipments.models import Order, Shipment, ShipmentStatus, Store

# Statuses a store may be told about, and those it is by default (SPEC §8).
NOTIFIABLE_STATUSES: tuple[str, ...] = (
    ShipmentStatus.INFO_RECEIVED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.FAILED_ATTEMPT,
    ShipmentStatus.AVAILABLE_FOR_PICKUP,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.EXCEPTION,
)
DEFAULT_STATUSES: tuple[str, ...] = NOTIFIABLE_STATUSES[1:]

# Names e-mail rows by what they are about, so the row of a (shipment, status) has one id whoever
# writes it first: enqueuing needs no read back, and the Message-ID is known before sending.
EMAIL_ID_NAMESPACE = uuid.UUID("6f1d9a52-3c1e-4a8e-9d0b-2b7f4c1e5a10")


def default_statuses() -> list[str]:
    return [str(status) for status in DEFAULT_STATUSES]


def shopper_email_id(shipment_id: int, status: str) -> uuid.UUID:
    return uuid.uuid5(EMAIL_ID_NAMESPACE, f"{shipment_id}:{status}")


class NotificationSettings(models.Model):
    """A store's choices; a store without a row has the defaults (on, `DEFAULT_STATUSES`)."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    enabled = models.BooleanField(_("e-mail shoppers"), default=True)
    statuses = models.JSONField(_("statuses"), default=default_statuses)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"{self.store}: {'on' if self.enabled else 'off'}"


class OrderUnsubscribe(models.Model):
    """The shopper of this order asked for no more e-mails (the link in every e-mail)."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, primary_key=True, related_name="shopper_unsubscribe"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.order} unsubscribed"


class ShopperEmail(models.Model):
    """One e-mail: recorded with the change that calls for it, then claimed and sent by a task.

    `pending` → `sending` (claimed, committed before SMTP) → `sent`; or `failed` (refused for
    good, or out of attempts), `cancelled` (unsubscribed or turned off before sending) and
    `unknown` (a worker stopped between SMTP and writing down the outcome: never sent again).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        UNKNOWN = "unknown", _("Unknown (not resent)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shopper_emails")
    # Null for the merchant's test e-mail only.
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, null=True, blank=True, related_name="shopper_emails"
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="shopper_emails"
    )
    status = models.CharField(_("status"), max_length=32, choices=ShipmentStatus.choices)
    to_email = models.EmailField(_("to"))
    is_test = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one e-mail per shipment and status, ever, whoever records it.
            models.UniqueConstraint(
                fields=["shipment", "status"],
                condition=Q(shipment__isnull=False),
                name="shopper_email_once_per_shipment_status",
            ),
            models.CheckConstraint(
                condition=Q(is_test=True) | Q(shipment__isnull=False),
                name="shopper_email_shipment_unless_test",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="shopper_email_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.status} → {self.to_email} ({self.state})"
