"""What the rest of the product may listen to: shipments that got news from their carrier.

`shipments_changed` is sent by the one service that applies carrier data
(`services.pulls.shipments_apply_results`: scheduled pulls, resyncs, bulk runs, corrections and —
later — carrier pushes all end there), **inside its transaction**, once per call, with every
shipment of the call that has news: a new event or another status. A receiver that writes rows
(an e-mail to send, a webhook delivery) therefore writes them in the same transaction as the
change, or not at all; it must not call out of the process (enqueue with `on_commit`).

Receivers get `changes: list[ShipmentChange]` and must do a constant number of queries for the
whole list: a bulk run applies hundreds of shipments a call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(frozen=True)
class ShipmentChange:
    shipment_id: int
    store_id: int
    order_id: int
    previous_status: str
    status: str
    new_events: int  # events this call added
    shipped_at: dt.datetime | None
    at: dt.datetime  # when the change was applied

    @property
    def status_changed(self) -> bool:
        return self.status != self.previous_status


shipments_changed = Signal()
