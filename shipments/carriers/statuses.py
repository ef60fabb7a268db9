"""The nine normalised shipment statuses, free of Django so adapters can use them.

`shipments.models.ShipmentStatus` gives the same values translated labels for the database and
the pages; both are `str`, so a value from one compares equal to the other.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    EXPIRED = "expired"


# Scheduled syncs leave these alone; a manual resync still re-pulls them.
FINAL_STATUSES = frozenset({Status.DELIVERED, Status.EXPIRED})
