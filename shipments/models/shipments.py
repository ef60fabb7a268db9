"""The domain (docs/contract.md §3): stores, people, orders, shipments, events, runs, audit."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .carriers import catalogue as carrier_catalogue
from .carriers import statuses as carrier_statuses
from .carriers.statuses import Status


class ShipmentStatus(models.TextChoices):
    """The nine normalised statuses (`carriers.statuses.Status`) with labels for people."""

    PENDING = Status.PENDING.value, _("Pending")
    INFO_RECEIVED = Status.INFO_RECEIVED.value, _("Info received")
    IN_TRANSIT = Status.IN_TRANSIT.value, _("In transit")
    OUT_FOR_DELIVERY = Status.OUT_FOR_DELIVERY.value, _("Out for delivery")
    FAILED_ATTEMPT = Status.FAILED_ATTEMPT.value, _("Failed attempt")
    AVAILABLE_FOR_PICKUP = Status.AVAILABLE_FOR_PICKUP.value, _("Available for pickup")
    DELIVERED = Status.DELIVERED.value, _("Delivered")
    EXCEPTION = Status.EXCEPTION.value, _("Exception")
    EXPIRED = Status.EXPIRED.value, _("Expired")


FINAL_STATUSES = frozenset(ShipmentStatus(status) for status in carrier_statuses.FINAL_STATUSES)

# The catalogue's carriers, as choices (member names are the environment prefixes: `Carrier.DHL`).
Carrier = models.TextChoices(
    "Carrier", [(c.env_prefix, (c.code, c.name)) for c in carrier_catalogue.CARRIERS]
)


class SyncOutcome(models.TextChoices):
    NEVER = "", _("Never synced")
    OK = "ok", _("OK")
    ERROR = "error", _("Error")


class SyncWindow(models.TextChoices):
    TODAY = "today", _("Today")
    YESTERDAY = "yesterday", _("Yesterday")
    LAST_7_DAYS = "7d", _("Last 7 days")
    LAST_30_DAYS = "30d", _("Last 30 days")
    LAST_60_DAYS = "60d", _("Last 60 days")


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    COMPLETED_WITH_ERRORS = "completed_with_errors", _("Completed with errors")
    FAILED = "failed", _("Failed")


ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class RequestSource(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    SHOPPER = "shopper", _("Shopper")
    OPS = "ops", _("Ops")
    CLI = "cli", _("Command line")
    SCHEDULE = "schedule", _("Schedule")


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def new_public_token() -> str:
    """An unguessable token for the shopper's tracking link (192 random bits)."""
    return secrets.token_urlsafe(24)


class Store(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[_validate_time_zone]
    )
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    accent_color = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f5fbf."))],
    )
    # https only: the tracking page's CSP loads images from https: (and never mixed content).
    logo_url = models.URLField(
        _("logo URL"), blank=True, validators=[URLValidator(schemes=["https"])]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def brand_name(self) -> str:
        return self.display_name or self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="membership_unique_user_store")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store} ({self.role})"


class Order(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(_("order number"), max_length=64)
    customer_email = models.EmailField(_("customer e-mail"))
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    placed_at = models.DateTimeField(_("placed at"))

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "order_number"], name="order_unique_number_per_store"
            )
        ]

    def __str__(self) -> str:
        return self.order_number


class Shipment(models.Model):
    # The store is the order's store, kept here so every scoped query and the uniqueness of a
    # tracking number per carrier and store are one index away.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shipments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=16, choices=Carrier.choices)
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
    shipped_at = models.DateTimeField(_("shipped at"))
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    last_sync_outcome = models.CharField(
        max_length=8, choices=SyncOutcome.choices, default=SyncOutcome.NEVER, blank=True
    )
    last_sync_error = models.CharField(max_length=500, blank=True)
    # When the scheduled sync should next pull this shipment; null once it is final.
    next_sync_at = models.DateTimeField(null=True, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "carrier", "tracking_number"],
                name="shipment_unique_tracking_per_carrier_store",
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
        ]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} {self.tracking_number}"

    def get_absolute_url(self) -> str:
        return reverse("shipments:detail", args=[self.pk])

    def get_tracking_url(self) -> str:
        return reverse("tracking:page", args=[self.public_token])

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


class SyncRun(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_runs")
    window = models.CharField(max_length=16, choices=SyncWindow.choices)
    source = models.CharField(max_length=16, choices=RequestSource.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(max_length=32, choices=RunState.choices, default=RunState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last time any shipment of the run was accounted for; the reconciler resumes stalled runs.
    progressed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=F("changed") + F("unchanged") + F("failed")),
                name="syncrun_done_is_sum",
            ),
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="syncrun_done_le_total"),
        ]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="syncrun_store_created"),
            models.Index(fields=["state", "progressed_at"], name="syncrun_state_progress"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} · {self.store} · {self.get_window_display()} · {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_RUN_STATES

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)


class SyncRunItem(models.Model):
    """One shipment of a run; its outcome is set once, which is what keeps the counts exact."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        CHANGED = "changed", _("Changed")
        UNCHANGED = "unchanged", _("Unchanged")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="run_items")
    carrier = models.CharField(max_length=16, choices=Carrier.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "shipment"], name="runitem_unique_shipment")
        ]
        indexes = [models.Index(fields=["run", "outcome"], name="runitem_run_outcome")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.shipment_id}: {self.outcome}"


class ResyncJob(models.Model):
    """A single-shipment resync the page polls (`status_url`)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="resync_jobs")
    source = models.CharField(max_length=16, choices=RequestSource.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    message = models.CharField(max_length=500, blank=True)
    changed = models.BooleanField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shipment", "-created_at"], name="job_shipment_created")]

    def __str__(self) -> str:
        return f"Job {self.pk} · {self.shipment} · {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class ResyncRequest(models.Model):
    """The audit: every resync click or command, accepted or refused, with who, where and why."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single shipment")
        BULK = "bulk", _("Bulk")
        CLEAR_COOLDOWN = "clear_cooldown", _("Clear cooldown")

    class RefusedReason(models.TextChoices):
        NONE = "", _("Accepted")
        COOLDOWN = "cooldown", _("Cooling down")
        IN_PROGRESS = "in_progress", _("A run is in progress")
        UNAVAILABLE = "unavailable", _("Temporarily unavailable")
        RATE_LIMITED = "rate_limited", _("Too many requests from this client")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="resync_requests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=16, choices=RequestSource.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.SET_NULL)
    window = models.CharField(max_length=16, choices=SyncWindow.choices, blank=True)
    accepted = models.BooleanField()
    refused_reason = models.CharField(
        max_length=16,
        choices=RefusedReason.choices,
        default=RefusedReason.NONE,
        blank=True,
    )
    forced = models.BooleanField(default=False)
    retry_after = models.PositiveIntegerField(null=True, blank=True)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    job = models.ForeignKey(ResyncJob, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="audit_store_created")]

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else f"refused ({self.refused_reason})"
        return f"{self.get_kind_display()} by {self.get_source_display()} · {verdict}"
