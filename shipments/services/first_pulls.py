"""First pulls of shipments that just came in, gathered into carrier batches.

Webhooks and API calls bring shipments one or a few at a time; pulling each on its own costs a
task and a carrier round trip per shipment (a burst of 1,000 Shopify webhooks was pulled at
7 shipments/s that way). Instead each new shipment's id goes into a Redis set per carrier, and
one flush task per carrier, a second later, takes the whole set and publishes chunks sized to
the carrier's batch limit — as a bulk run does.

Nothing is lost if Redis forgets a set or the flush message is lost: a new shipment is due for
the schedule `FIRST_PULL_SAFETY_NET` after it came in (ingest).
"""

from __future__ import annotations

import logging

from ..redis_client import RedisError, get_redis
from . import enqueue
from .runs import chunk_by_carrier

logger = logging.getLogger("shipments.services")

FIRST_PULL_KEY = "resync:first-pull:{carrier}"
FLUSH_KEY = "resync:first-pull:{carrier}:flush"
# How long ids gather before the flush; and how long a flush is taken as on its way.
GATHER_SECONDS = 1.0
FLUSH_GUARD_MS = 60_000
TAKE_AT_MOST = 5000


def first_pulls_request(planned: list[tuple[str, list[int]]]) -> None:
    """Queue these (carrier, ids) for a first pull; publish one flush per carrier unless one is
    on its way. Call on commit (the rows must be visible to the worker)."""
    try:
        client = get_redis()
        pipe = client.pipeline(transaction=False)
        carriers = sorted({carrier for carrier, ids in planned if ids})
        for carrier, ids in planned:
            if ids:
                pipe.sadd(FIRST_PULL_KEY.format(carrier=carrier), *ids)
        for carrier in carriers:
            pipe.set(FLUSH_KEY.format(carrier=carrier), "1", nx=True, px=FLUSH_GUARD_MS)
        flags = pipe.execute()[-len(carriers) :] if carriers else []
    except RedisError as exc:
        logger.warning("first pulls left to the schedule: Redis unavailable (%s)", exc)
        return
    for carrier, first in zip(carriers, flags, strict=True):
        if first:
            enqueue.first_pulls_flush(carrier, countdown=GATHER_SECONDS)


def first_pulls_take(*, carrier: str) -> list[tuple[str, list[int]]]:
    """The flush: every id gathered for `carrier`, cut into chunks. The flag goes first, so an
    id added while this runs publishes a flush of its own (never waits for the schedule)."""
    client = get_redis()
    key = FIRST_PULL_KEY.format(carrier=carrier)
    client.delete(FLUSH_KEY.format(carrier=carrier))
    ids = [int(raw) for raw in client.spop(key, TAKE_AT_MOST) or []]
    if client.scard(key):  # more than one flush takes: hand the rest to another flush
        client.set(FLUSH_KEY.format(carrier=carrier), "1", px=FLUSH_GUARD_MS)
        enqueue.first_pulls_flush(carrier)
    return chunk_by_carrier((pk, carrier) for pk in sorted(ids))
