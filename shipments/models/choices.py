"""Choices of the domain: statuses, carriers (from the catalogue), windows, run states, sources."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..carriers import catalogue as carrier_catalogue
from ..carriers import statuses as carrier_statuses
from ..carriers.statuses import Status


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


# What a shipment without a carrier shows, and the Shipment tab's filter for them.
NEEDS_CARRIER = _("Needs carrier")
NEEDS_CARRIER_FILTER = "none"


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
    # Not a window a merchant picks: the first pulls of a CSV import's shipments.
    IMPORT = "import", _("Import")


# The windows of a bulk resync request (the Resync menu, `resync --window`).
BULK_WINDOWS = tuple(w for w in SyncWindow if w != SyncWindow.IMPORT)


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
    API = "api", _("Merchant API")
    CORRECTION = "correction", _("Carrier correction")
