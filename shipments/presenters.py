"""The merchant app's shapes: the JSON of docs/contract.md §5 and the choices the pages list.

Views read with `selectors`, then shape here; nothing here queries beyond what it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse
from django.utils.dates import WEEKDAYS

from .carriers import actual, catalogue
from .carriers.numbers import carrier_suggestions
from .models import (
    NEEDS_CARRIER,
    NEEDS_CARRIER_FILTER,
    Carrier,
    ResyncJob,
    Shipment,
    ShipmentStatus,
    Store,
    StoreCarrierMapping,
    SyncRun,
    TrackingEvent,
)


def carrier_public_url(shipment: Shipment) -> str:
    """The carrier's own tracking page for this shipment, or "" (only http(s) links).

    Through an aggregator: the real carrier's page once the aggregator named the carrier (""
    when we know no page of it); until then the aggregator's own page.
    """
    if shipment.actual_carrier_known:
        return actual.carrier_link(shipment.actual_carrier_url)
    url = catalogue.public_tracking_url(shipment.carrier, shipment.tracking_number) or ""
    return url if urlsplit(url).scheme in ("http", "https") else ""


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
        "carrier_name": shipment.carrier_name,
        "tracked_via": catalogue.BY_CODE[shipment.carrier].name if shipment.is_aggregated else None,
        "carrier_url": carrier_public_url(shipment),
        "last_sync_outcome": shipment.last_sync_outcome,
        "last_sync_error": shipment.last_sync_error,
        "last_success_at": iso(shipment.last_updated_at),
        "resync_url": reverse("shipments:resync", args=[shipment.pk]),
        "carrier_change_url": reverse("shipments:carrier", args=[shipment.pk]),
        "carrier_suggestions": carrier_suggestions(shipment.tracking_number),
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


def job_accepted_payload(shipment: Shipment, verdict: Any) -> dict[str, Any]:
    """A single resync (or correction) accepted: 202 `{"job", "state", "status_url",
    "retry_after"}` (docs/contract.md §5)."""
    job = verdict.job
    return {
        "job": str(job.pk),
        "state": "queued",
        "status_url": reverse("shipments:resync_job", args=[shipment.pk, job.pk]),
        "retry_after": verdict.retry_after,
    }


def job_payload(job: ResyncJob) -> dict[str, Any]:
    """`GET status_url` → `{"state", "message", "changed"}` (docs/contract.md §5)."""
    return {"state": job.state, "message": job.message, "changed": job.changed}


def carrier_choices(*, with_needs_carrier: bool = True) -> list[tuple[str, str]]:
    """The carriers (by name), and for the Shipment tab's filter the shipments without one."""
    choices = [(c.value, str(c.label)) for c in Carrier]
    if with_needs_carrier:
        choices.append((NEEDS_CARRIER_FILTER, str(NEEDS_CARRIER)))
    return choices


def carrier_mapping_payload(mapping: StoreCarrierMapping) -> dict[str, Any]:
    return {"id": mapping.pk, "name": mapping.name, "carrier": mapping.carrier}


def status_choices() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in ShipmentStatus]


def carrier_correction_choices(shipment: Shipment) -> dict[str, list[tuple[str, str]]]:
    """The "Change carrier" list: the carriers whose number format fits first, then the rest."""
    suggested = carrier_suggestions(shipment.tracking_number)
    named = {c.code: c.name for c in catalogue.CARRIERS}
    return {
        "suggested": [(code, named[code]) for code in suggested if code in named],
        "others": [(c.code, c.name) for c in catalogue.CARRIERS if c.code not in suggested],
    }


def delivery_rule_payload(store: Store) -> dict[str, Any]:
    """The store's delivery rule as `/app/settings/delivery/` gives it (docs/contract.md §10)."""
    cutoff = store.delivery_cutoff
    return {
        "active": store.delivery_rule is not None,
        "processing_days": store.delivery_processing_days,
        "transit_days": store.delivery_transit_days,
        "transit_by_carrier": dict(store.delivery_transit_by_carrier or {}),
        "business_days": store.delivery_business_days,
        "cutoff": cutoff.strftime("%H:%M") if cutoff else None,
        "time_zone": store.time_zone,
    }


def weekday_choices() -> list[tuple[str, str]]:
    """ISO weekday numbers ("1" = Monday) and their names in the active language."""
    return [(str(day + 1), str(name)) for day, name in sorted(WEEKDAYS.items())]
