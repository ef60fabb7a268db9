"""Selectors: the merchant app's read queries and the JSON shapes of SPEC §5.

Every function takes the store it reads for, so nothing here can leak another store's rows.
Writes live in `services.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from .carriers import catalogue
from .models import (
    Carrier,
    ResyncJob,
    Shipment,
    ShipmentStatus,
    Store,
    SyncRun,
    SyncRunItem,
    SyncWindow,
    TrackingEvent,
)
from .windows import window_bounds


@dataclass(frozen=True)
class ShipmentFilters:
    """What the Shipment tab is narrowed to (all optional; already validated by the view)."""

    status: str = ""
    carrier: str = ""
    search: str = ""
    run_id: int | None = None
    outcome: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.carrier or self.search or self.run_id)


def shipment_list_for_store(*, store: Store, filters: ShipmentFilters) -> QuerySet[Shipment]:
    """The store's shipments, newest shipped first, each with its order and latest event.

    The latest event comes as annotations (`latest_event_description`, `…_location`, `…_at`), so a
    page of any size costs the same number of queries.
    """
    latest = TrackingEvent.objects.filter(shipment=OuterRef("pk")).order_by("-occurred_at", "-id")
    queryset = (
        Shipment.objects.filter(store=store)
        .select_related("order")
        .annotate(
            latest_event_description=Subquery(latest.values("description")[:1]),
            latest_event_location=Subquery(latest.values("location")[:1]),
            latest_event_at=Subquery(latest.values("occurred_at")[:1]),
        )
        .order_by("-shipped_at", "-id")
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.carrier:
        queryset = queryset.filter(carrier=filters.carrier)
    if filters.search:
        term = filters.search.lstrip("#") or filters.search
        queryset = queryset.filter(
            Q(order__order_number__icontains=term) | Q(tracking_number__icontains=term)
        )
    if filters.run_id is not None:
        items = SyncRunItem.objects.filter(run_id=filters.run_id, run__store=store)
        if filters.outcome:
            items = items.filter(outcome=filters.outcome)
        queryset = queryset.filter(pk__in=items.values("shipment_id"))
    return queryset


def window_counts(*, store: Store, now: dt.datetime) -> dict[str, int]:
    """How many shipments each bulk window would resync, in one query (conditional aggregation).

    The bounds are those of `services.store_window_queryset`, so the count is what a run gets.
    """
    aggregates = {}
    for window in SyncWindow:
        start, end = window_bounds(window, time_zone=store.time_zone, now=now)
        aggregates[f"w_{window.value}"] = Count(
            "pk", filter=Q(shipped_at__gte=start, shipped_at__lt=end)
        )
    row = Shipment.objects.filter(store=store).aggregate(**aggregates)
    return {window.value: row[f"w_{window.value}"] or 0 for window in SyncWindow}


def sync_run_latest(*, store: Store) -> SyncRun | None:
    return (
        SyncRun.objects.filter(store=store)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
        .first()
    )


def sync_run_for_store(*, store: Store, run_id: int) -> SyncRun | None:
    return SyncRun.objects.filter(store=store, pk=run_id).select_related("requested_by").first()


def shipment_for_store(*, store: Store, shipment_id: int) -> Shipment | None:
    return (
        Shipment.objects.filter(store=store, pk=shipment_id)
        .select_related("order", "store")
        .first()
    )


def shipment_events(*, shipment: Shipment) -> list[TrackingEvent]:
    """The shipment's timeline, newest first."""
    return list(shipment.events.order_by("-occurred_at", "-id"))


def resync_job_for_store(*, store: Store, shipment_id: int, job_id: uuid.UUID) -> ResyncJob | None:
    return (
        ResyncJob.objects.filter(pk=job_id, shipment_id=shipment_id, shipment__store=store)
        .select_related("shipment")
        .first()
    )


def resync_job_latest(*, shipment: Shipment) -> ResyncJob | None:
    return shipment.resync_jobs.order_by("-created_at").first()


def carrier_public_url(shipment: Shipment) -> str:
    """The carrier's own tracking page for this shipment, or "" (only http(s) links)."""
    url = catalogue.public_tracking_url(shipment.carrier, shipment.tracking_number) or ""
    return url if urlsplit(url).scheme in ("http", "https") else ""


# --- JSON payloads (SPEC §5) ---------------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with an explicit offset (never a bare "Z", never naive)."""
    return value.isoformat() if value is not None else None


def shipment_payload(shipment: Shipment, *, tracking_url: str) -> dict[str, Any]:
    """One row of the Shipment tab (`tracking_url` is absolute: the caller knows the host)."""
    return {
        "id": shipment.pk,
        "order_number": shipment.order.order_number,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "status": shipment.status,
        "shipped_at": iso(shipment.shipped_at),
        "last_synced_at": iso(shipment.last_synced_at),
        "tracking_url": tracking_url,
    }


def shipment_detail_payload(
    shipment: Shipment,
    *,
    events: list[TrackingEvent],
    tracking_url: str,
    retry_after: int,
) -> dict[str, Any]:
    return {
        **shipment_payload(shipment, tracking_url=tracking_url),
        "status_label": str(ShipmentStatus(shipment.status).label),
        "customer_email": shipment.order.customer_email,
        "estimated_delivery": iso(shipment.estimated_delivery),
        "origin": shipment.origin,
        "destination": shipment.destination,
        "carrier_url": carrier_public_url(shipment),
        "last_sync_outcome": shipment.last_sync_outcome,
        "last_sync_error": shipment.last_sync_error,
        "resync_url": reverse("shipments:resync", args=[shipment.pk]),
        "events": [
            {
                "occurred_at": iso(event.occurred_at),
                "status": event.status,
                "description": event.description,
                "location": event.location,
            }
            for event in events
        ],
        "retry_after": retry_after,
    }


def sync_run_payload(run: SyncRun) -> dict[str, Any]:
    """A bulk run's progress (`GET /app/sync-runs/<id>/`, and `sync` in the Shipment tab)."""
    user = run.requested_by
    return {
        "id": run.pk,
        "state": run.state,
        "state_label": str(run.get_state_display()),
        "window": run.window,
        "window_label": str(run.get_window_display()),
        "total": run.total,
        "done": run.done,
        "changed": run.changed,
        "unchanged": run.unchanged,
        "failed": run.failed,
        "percent": run.percent,
        "active": run.is_active,
        "source": run.source,
        "requested_by": user.get_username() if user is not None else None,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status_url": reverse("shipments:sync_run", args=[run.pk]),
        "failed_url": reverse("shipments:list") + f"?run={run.pk}&outcome=failed",
    }


def carrier_choices() -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in Carrier]


def status_choices() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in ShipmentStatus]
