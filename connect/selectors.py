"""Connect's read queries (None for "not found"): the store's API keys, and what the merchant API
reads beyond `shipments.selectors`. Every function takes the store it reads for."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import QuerySet

from shipments import selectors as shipment_selectors
from shipments.models import ResyncJob, Shipment, Store, SyncRun

from .models import ApiKey

# Ids beyond a database's 64-bit integers are no row (and never reach the database).
MAX_ID = 2**63 - 1


def valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def api_keys_for_store(*, store: Store) -> list[ApiKey]:
    """The store's keys, newest first (revoked ones too: the list says when)."""
    return list(ApiKey.objects.filter(store=store).select_related("created_by"))


def api_shipments_for_store(
    *,
    store: Store,
    filters: shipment_selectors.ShipmentFilters,
    updated_since: dt.datetime | None = None,
) -> QuerySet[Shipment]:
    """The Shipment tab's list (newest shipped first), and only what changed since a moment.

    Changed (`updated_at`): written by a way in or a correction, or a pull that brought news (new
    events, another status); a pull that changed nothing does not count.
    """
    queryset = shipment_selectors.shipment_list_for_store(store=store, filters=filters)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def shipment_for_store(*, store: Store, shipment_id: int) -> Shipment | None:
    if not valid_id(shipment_id):
        return None
    return shipment_selectors.shipment_for_store(store=store, shipment_id=shipment_id)


def resync_job_for_store(*, store: Store, job_id: uuid.UUID) -> ResyncJob | None:
    return ResyncJob.objects.filter(pk=job_id, shipment__store=store).first()


def sync_run_for_store(*, store: Store, run_id: int) -> SyncRun | None:
    if not valid_id(run_id):
        return None
    return shipment_selectors.sync_run_for_store(store=store, run_id=run_id)
