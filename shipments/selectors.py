"""Selectors: the merchant app's read queries.

Every function takes the store it reads for, so nothing here can leak another store's rows.
Selectors only read and answer None for "not found" (the views answer 404); writes live in
`services`, shaping for JSON and templates in `presenters`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from .models import (
    BULK_WINDOWS,
    NEEDS_CARRIER_FILTER,
    ResyncJob,
    Shipment,
    Store,
    StoreCarrierMapping,
    SyncRun,
    SyncRunItem,
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
    if filters.carrier == NEEDS_CARRIER_FILTER:
        queryset = queryset.filter(carrier__isnull=True)
    elif filters.carrier:
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
    for window in BULK_WINDOWS:
        start, end = window_bounds(window, time_zone=store.time_zone, now=now)
        aggregates[f"w_{window.value}"] = Count(
            "pk", filter=Q(shipped_at__gte=start, shipped_at__lt=end)
        )
    row = Shipment.objects.filter(
        store=store, carrier__isnull=False, cancelled_at__isnull=True
    ).aggregate(**aggregates)
    return {window.value: row[f"w_{window.value}"] or 0 for window in BULK_WINDOWS}


def carrier_mappings_for_store(*, store: Store) -> list[StoreCarrierMapping]:
    """The store's own names for carriers, by name."""
    return list(StoreCarrierMapping.objects.filter(store=store).order_by("name_key"))


def sync_run_latest(*, store: Store) -> SyncRun | None:
    return (
        SyncRun.objects.filter(store=store)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
        .first()
    )


RUN_HISTORY_SIZE = 20


def sync_run_history(*, store: Store, limit: int = RUN_HISTORY_SIZE) -> list[SyncRun]:
    """The store's latest runs (bulk resyncs and CSV imports), newest first, in one query."""
    return list(
        SyncRun.objects.filter(store=store)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


def sync_run_for_store(*, store: Store, run_id: int) -> SyncRun | None:
    return SyncRun.objects.filter(store=store, pk=run_id).select_related("requested_by").first()


def shipment_for_store(*, store: Store, shipment_id: int) -> Shipment | None:
    return (
        Shipment.objects.filter(store=store, pk=shipment_id)
        .select_related("order", "store")
        .first()
    )


def member_store_of_shipment(*, user: Any, shipment_id: int) -> Store | None:
    """The store of shipment `shipment_id` if `user` is a member of it, else None (one query)."""
    return Store.objects.filter(memberships__user=user, shipments__pk=shipment_id).first()


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
