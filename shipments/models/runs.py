"""Bulk runs and their items, single resync jobs, and the audit of every resync request."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ACTIVE_RUN_STATES, Carrier, RequestSource, RunState, SyncWindow
from .shipments import Shipment
from .stores import Store


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
        RATE_LIMITED = "rate_limited", _("Per-IP limit")

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
    # What a correction changed: "ups 1Z… → fedex 7…" (who asked is `user`, from where `source`).
    detail = models.CharField(max_length=300, blank=True)
    retry_after = models.PositiveIntegerField(null=True, blank=True)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    job = models.ForeignKey(ResyncJob, null=True, blank=True, on_delete=models.SET_NULL)
    # Refusals of anonymous shoppers are counted in Redis and written as one row per shipment,
    # client, reason and minute (services.refusals): how many requests the row stands for, and
    # the counter it came from (one row per counter, however often a flush is retried).
    request_count = models.PositiveIntegerField(default=1)
    aggregate_key = models.CharField(
        max_length=120, null=True, blank=True, unique=True, editable=False
    )
    # When the request came (an aggregated row: its first request).
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="audit_store_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(request_count__gte=1), name="audit_request_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_source_display()} · {self.verdict}"

    @property
    def verdict(self) -> str:
        """ "accepted", "refused (cooldown)", or for an aggregated row "refused ×57 (per-IP
        limit)"."""
        if self.accepted:
            return "accepted"
        times = f" ×{self.request_count}" if self.request_count > 1 else ""
        reason = str(self.get_refused_reason_display())
        return f"refused{times} ({reason[:1].lower()}{reason[1:]})"
