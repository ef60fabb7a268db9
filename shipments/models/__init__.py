"""The domain (docs/contract.md §3): stores, people, orders, shipments, events, runs, audit.

One module per part; every name is importable from `shipments.models`, as the contract says.
"""

from .choices import (
    ACTIVE_RUN_STATES,
    BULK_WINDOWS,
    FINAL_STATUSES,
    NEEDS_CARRIER,
    NEEDS_CARRIER_FILTER,
    Carrier,
    RequestSource,
    RunState,
    ShipmentStatus,
    SyncOutcome,
    SyncWindow,
)
from .runs import ResyncJob, ResyncRequest, SyncRun, SyncRunItem
from .shipments import Order, Shipment, TrackingEvent, new_public_token
from .stores import Membership, Store, StoreCarrierMapping, _validate_time_zone

__all__ = [
    "ACTIVE_RUN_STATES",
    "BULK_WINDOWS",
    "FINAL_STATUSES",
    "NEEDS_CARRIER",
    "NEEDS_CARRIER_FILTER",
    "Carrier",
    "Membership",
    "Order",
    "RequestSource",
    "ResyncJob",
    "ResyncRequest",
    "RunState",
    "Shipment",
    "ShipmentStatus",
    "Store",
    "StoreCarrierMapping",
    "SyncOutcome",
    "SyncRun",
    "SyncRunItem",
    "SyncWindow",
    "TrackingEvent",
    "_validate_time_zone",
    "new_public_token",
]
