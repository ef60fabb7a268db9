"""The estimated delivery a shopper sees: the carrier's date when it gave one, else the store's
rule (`shipments.delivery`), and which of the two it is (docs/contract.md §10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shipments.delivery import DeliveryRule, Estimate, estimate_delivery
from shipments.models import FINAL_STATUSES, Shipment

CARRIER = "carrier"
STORE = "store"


def shopper_estimate(shipment: Shipment, *, carrier: str | None) -> Estimate | None:
    """The parcel's estimated delivery in the store's zone, or None: none once it is delivered
    (or expired), none without a carrier date or a store rule. `carrier` is the code the
    store's per-carrier transit days are looked up by."""
    if shipment.status in FINAL_STATUSES:
        return None
    store = shipment.store
    if shipment.estimated_delivery is not None:
        day = shipment.estimated_delivery.astimezone(store.tz).date()
        return Estimate(earliest=day, latest=day, source=CARRIER)
    rule = store.delivery_rule
    if rule is None:
        return None
    return estimate_delivery(rule, carrier=carrier, shipped_at=shipment.shipped_at)


def unshipped_estimate(
    *, rule: DeliveryRule | None, placed_at: dt.datetime | None
) -> Estimate | None:
    """For an order not shipped yet: the store's rule from when it was placed, processing days
    included, with the store's default transit days (no carrier is known yet)."""
    if rule is None:
        return None
    return estimate_delivery(rule, carrier=None, shipped_at=None, placed_at=placed_at)


def estimate_payload(
    estimate: Estimate | None, shipment: Shipment | None = None, tz: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    """The JSON keys: `estimated_delivery` (the carrier's date and time with its offset, as
    before; the store's earliest date as YYYY-MM-DD), `estimated_delivery_latest` (the store's
    latest date for a range, else null) and `estimated_delivery_source` ("carrier", "store" or
    null)."""
    if estimate is None:
        return {
            "estimated_delivery": None,
            "estimated_delivery_latest": None,
            "estimated_delivery_source": None,
        }
    if estimate.source == CARRIER and shipment and shipment.estimated_delivery is not None:
        first = shipment.estimated_delivery.astimezone(tz).isoformat()
    else:
        first = estimate.earliest.isoformat()
    return {
        "estimated_delivery": first,
        "estimated_delivery_latest": estimate.latest.isoformat() if estimate.is_range else None,
        "estimated_delivery_source": estimate.source,
    }
