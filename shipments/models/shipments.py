"""Orders, their shipments and the carriers' scans."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..carriers.catalogue import AGGREGATOR_CODES
from .choices import FINAL_STATUSES, NEEDS_CARRIER, Carrier, ShipmentStatus, SyncOutcome
from .stores import Store


def new_public_token() -> str:
    """An unguessable token for the shopper's tracking link (192 random bits)."""
    return secrets.token_urlsafe(24)


class Order(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(_("order number"), max_length=64)
    customer_email = models.EmailField(_("customer e-mail"))
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    # The shop's own id for the order (Shopify's order id) and the shop's last change to it: a
    # webhook older than what was applied changes nothing.
    external_id = models.CharField(max_length=64, blank=True, default="")
    external_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="order_unique_number_per_store"
            ),
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=~Q(external_id=""),
                name="order_unique_external_id_per_store",
            ),
        ]
        indexes = [
            # The shopper's lookup (tracking.selectors.order_lookup): order number and e-mail,
            # case-insensitively, in every store at once.
            models.Index(Lower("order_number"), Lower("customer_email"), name="order_lookup"),
        ]

    def __str__(self) -> str:
        return self.order_number


class Shipment(models.Model):
    # The store is the order's store, kept here so every scoped query and the uniqueness of a
    # tracking number per carrier and store are one index away.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shipments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    # Null while no carrier fits what the shop sent (never ""): kept, listed as "Needs carrier",
    # left out of pulls until a carrier is set.
    carrier = models.CharField(
        _("carrier"), max_length=16, choices=Carrier.choices, null=True, blank=True
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=ShipmentStatus.choices,
        default=ShipmentStatus.PENDING,
    )
    sub_status = models.CharField(_("sub-status"), max_length=64, blank=True)
    carrier_status_code = models.CharField(max_length=64, blank=True)
    carrier_status_text = models.CharField(max_length=500, blank=True)
    estimated_delivery = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(max_length=200, blank=True)
    destination = models.CharField(max_length=200, blank=True)
    # Tracked through an aggregator (17TRACK, AfterShip): the carrier it reports as carrying the
    # parcel: our carrier code when it is one of ours, else the aggregator's id of it; its name;
    # the parcel on that carrier's own site ("" when not known).
    actual_carrier_code = models.CharField(max_length=64, blank=True)
    actual_carrier_name = models.CharField(_("actual carrier"), max_length=100, blank=True)
    actual_carrier_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"))
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    # The last pull the carrier answered: what the page shows is at least this fresh (a failed
    # pull moves `last_synced_at`, never this).
    last_success_at = models.DateTimeField(_("last successful update"), null=True, blank=True)
    last_sync_outcome = models.CharField(
        max_length=8, choices=SyncOutcome.choices, default=SyncOutcome.NEVER, blank=True
    )
    last_sync_error = models.CharField(max_length=500, blank=True)
    # When the scheduled sync should next pull this shipment; null once it is final.
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # The last verified carrier push (17TRACK, AfterShip webhooks) applied to this shipment:
    # while pushes keep coming it is pulled only as a daily safety check (services/pushes.py).
    push_seen_at = models.DateTimeField(_("last push"), null=True, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token)
    # The shop's fulfillment this shipment came from (Shopify's fulfillment id; one fulfillment
    # may carry several tracking numbers) and the shop's last change to it.
    external_id = models.CharField(max_length=64, blank=True, default="")
    external_updated_at = models.DateTimeField(null=True, blank=True)
    # Set when the shop cancelled the fulfillment: off the schedule and the tracking page.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "carrier", "tracking_number"],
                name="shipment_unique_tracking_per_carrier_store",
            ),
            # NULLs are distinct in the constraint above: one carrier-less row per number.
            models.UniqueConstraint(
                fields=["store", "tracking_number"],
                condition=Q(carrier__isnull=True),
                name="shipment_unique_uncarried_number_per_store",
            ),
            models.CheckConstraint(
                condition=~Q(carrier=""), name="shipment_carrier_null_not_empty"
            ),
            models.CheckConstraint(
                condition=~Q(tracking_number=""),
                name="shipment_tracking_number_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "-shipped_at"], name="shipment_store_shipped"),
            models.Index(fields=["store", "status"], name="shipment_store_status"),
            models.Index(
                fields=["next_sync_at"],
                name="shipment_due_for_sync",
                condition=Q(next_sync_at__isnull=False),
            ),
            models.Index(fields=["tracking_number"], name="shipment_tracking_number"),
            # The shoppers' lookup by number alone, whatever the case they type it in.
            models.Index(Upper("tracking_number"), name="shipment_number_upper"),
            models.Index(
                fields=["store", "external_id"],
                name="shipment_store_external",
                condition=~Q(external_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_label} {self.tracking_number}"

    def get_absolute_url(self) -> str:
        return reverse("shipments:detail", args=[self.pk])

    @property
    def carrier_label(self) -> str:
        """The carrier's name, or "Needs carrier" while none is set; through an aggregator, the
        real carrier and the aggregator ("Royal Mail (via 17TRACK)"): for merchants only."""
        if not self.carrier:
            return str(NEEDS_CARRIER)
        name = str(self.get_carrier_display())
        if self.actual_carrier_known:
            return _("%(carrier)s (via %(aggregator)s)") % {
                "carrier": self.actual_carrier_name,
                "aggregator": name,
            }
        return name

    @property
    def is_aggregated(self) -> bool:
        """Tracked through an aggregator (17TRACK, AfterShip) rather than the carrier itself."""
        return self.carrier in AGGREGATOR_CODES

    @property
    def actual_carrier_known(self) -> bool:
        return self.is_aggregated and bool(self.actual_carrier_name)

    @property
    def carrier_name(self) -> str | None:
        """The carrier that carries the parcel: the real one when an aggregator named it, else
        the catalogue's name; None without a carrier."""
        if not self.carrier:
            return None
        if self.actual_carrier_known:
            return self.actual_carrier_name
        return str(self.get_carrier_display())

    def get_tracking_url(self) -> str:
        return reverse("tracking:page", args=[self.public_token])

    @property
    def last_updated_at(self) -> dt.datetime | None:
        """When the carrier last answered: what is shown is at least this fresh (a failed pull
        after it changes nothing here). Rows from before `last_success_at` existed fall back to
        their last pull unless it failed."""
        if self.last_success_at is not None:
            return self.last_success_at
        return None if self.last_sync_outcome == SyncOutcome.ERROR else self.last_synced_at

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=32, choices=ShipmentStatus.choices)
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    raw_code = models.CharField(max_length=64, blank=True)
    # The carrier gave a wall-clock time without an offset and the place's zone is not known:
    # `occurred_at` holds that wall clock as if UTC (for ordering); pages show it as "local time".
    local_time_only = models.BooleanField(default=False)
    # Identity of the event as the carrier reported it (time, code, text, place): re-pulling the
    # same history hits the unique constraint instead of adding a copy.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "fingerprint"], name="event_unique_per_shipment"
            )
        ]
        indexes = [models.Index(fields=["shipment", "-occurred_at"], name="event_shipment_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status} {self.description[:40]}"
