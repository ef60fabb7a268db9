"""Refused resyncs of anonymous shoppers: counted in Redis, written once a minute.

A refusal past a limit (the per-IP limit, or the shared cooldown) costs no database write: it
is counted per store, shipment, client, reason and minute (`refusal_counts`), and the beat task
`resync_refusals_flush` writes one audit row per counter once its minute is over, with
`request_count` saying how many requests it stands for. Accepted resyncs, merchants' and ops'
refusals, and refusals while Redis is down are written one row each, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction

from resync_site.client_ip import client_key

from .. import refusal_counts
from ..models import RequestSource, ResyncRequest, Shipment, Store
from ..redis_client import RedisUnavailable
from .verdicts import audit_request

logger = logging.getLogger("shipments.services")


def counted_refusal(*, source: str, user: Any) -> bool:
    """Whether a refusal is counted rather than written: an anonymous shopper's."""
    return source == RequestSource.SHOPPER and not getattr(user, "is_authenticated", False)


def refusal_record(
    *,
    shipment: Shipment,
    source: str,
    ip_address: str | None,
    reason: str,
    retry_after: int,
    user: Any = None,
) -> None:
    """Record a refused single resync: counted for an anonymous shopper, else one audit row.
    If the counter does not answer, the row is written (a refusal is never lost)."""
    if counted_refusal(source=source, user=user):
        try:
            refusal_counts.count(
                store_id=shipment.store_id,
                shipment_id=shipment.pk,
                client=client_key(ip_address),
                reason=reason,
                ip=ip_address,
                retry_after=retry_after,
            )
            return
        except RedisUnavailable:
            logger.warning("refusal counter unavailable: writing the audit row")
    audit_request(
        store_id=shipment.store_id,
        kind=ResyncRequest.Kind.SINGLE,
        source=source,
        user=user if getattr(user, "is_authenticated", False) else None,
        ip_address=ip_address,
        shipment=shipment,
        accepted=False,
        refused_reason=reason,
        retry_after=retry_after,
    )


def resync_refusals_flush(*, now: float | None = None) -> int:
    """Write one audit row per refusal counter whose minute is over (Redis's clock, or `now` in
    epoch seconds); returns the rows written. Idempotent: a counter's row is unique by its key,
    so a flush retried after a crash between the write and `forget` writes nothing twice."""
    counts = refusal_counts.closed(now=now)
    if not counts:
        return 0
    # A store or shipment deleted meanwhile: the store's audit went with it; a shipment's row
    # stays without it (as `on_delete=SET_NULL` leaves the rows written before).
    stores = set(
        Store.objects.filter(pk__in={c.store_id for c in counts}).values_list("pk", flat=True)
    )
    shipments = set(
        Shipment.objects.filter(pk__in={c.shipment_id for c in counts}).values_list("pk", flat=True)
    )
    rows = [
        ResyncRequest(
            store_id=c.store_id,
            kind=ResyncRequest.Kind.SINGLE,
            source=RequestSource.SHOPPER,
            ip_address=c.ip_address,
            shipment_id=c.shipment_id if c.shipment_id in shipments else None,
            accepted=False,
            refused_reason=c.reason,
            retry_after=c.retry_after,
            request_count=c.count,
            aggregate_key=c.key[len(refusal_counts.PREFIX) :],
            created_at=dt.datetime.fromtimestamp(c.first_at, tz=dt.UTC),
        )
        for c in counts
        if c.store_id in stores
    ]
    with transaction.atomic():
        ResyncRequest.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    refusal_counts.forget([c.key for c in counts])
    logger.info(
        "refused resyncs written: %s rows for %s requests", len(rows), sum(c.count for c in counts)
    )
    return len(rows)
