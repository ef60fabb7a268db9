"""Shipments coming in: the one service that every way in ends in (Shopify webhooks, the merchant
API, CSV import).

It creates or updates orders and shipments in bulk (a constant number of queries per batch, not
per row), maps each shipment's carrier (`intake.carrier_resolve`), and pulls what is new or
changed once at once in the background, touching no cooldown: either gathered with other first
pulls into carrier batches a second later (`first_pulls`), or as one sync run (window
`import`) that the Shipment tab's sync panel shows.

A shipment is never dropped: one whose carrier nothing fits is stored without one ("Needs
carrier"). If the pull's message is lost, the schedule pulls the shipment anyway
(`FIRST_PULL_SAFETY_NET` after it came in), and the reconciler resumes an import's run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model
from django.utils import timezone

from ..carriers import catalogue
from ..inserts import insert_statement
from ..models import (
    Order,
    RequestSource,
    RunState,
    Shipment,
    Store,
    StoreCarrierMapping,
    SyncRun,
    SyncRunItem,
    SyncWindow,
)
from . import enqueue
from .first_pulls import first_pulls_request
from .intake import CarrierMatch, carrier_resolve
from .runs import chunk_by_carrier

logger = logging.getLogger("shipments.services")

# A new shipment is due for the schedule this long after it came in: its first pull is enqueued
# at once, and this only catches a pull whose message was lost.
FIRST_PULL_SAFETY_NET = dt.timedelta(minutes=10)
# Rows per query when reading what exists (well under every database's parameter limit).
QUERY_BATCH = 900


def clean_tracking_number(value: str) -> str:
    """A tracking number as carriers take it: no spaces (shops and people type them in groups)."""
    return "".join(str(value).split())


@dataclass(frozen=True)
class Incoming:
    """One shipment as a shop sends it (already checked by the way in: lengths, e-mail)."""

    order_number: str
    email: str
    tracking_number: str
    carrier: str = ""  # a carrier code or the shop's name for it; "" = from the number
    shipped_at: dt.datetime | None = None
    customer_name: str = ""
    # The shop's fulfillment id and its last change (Shopify), for later updates to find it.
    external_id: str = ""
    external_updated_at: dt.datetime | None = None


@dataclass
class IngestResult:
    shipments: list[Shipment]  # one per row, in the rows' order
    created: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)
    pulled: set[int] = field(default_factory=set)
    run: SyncRun | None = None


def _batches(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), QUERY_BATCH):
        yield values[start : start + QUERY_BATCH]


def _resolver(store: Store) -> Any:
    """`carrier_resolve` with the store's own names read once (not once per row)."""
    mappings = dict(
        StoreCarrierMapping.objects.filter(store=store).values_list("name_key", "carrier")
    )
    memo: dict[tuple[str, str], CarrierMatch] = {}

    def resolve(name: str, number: str) -> CarrierMatch:
        key = (catalogue.name_key(name), number)
        if key not in memo:
            memo[key] = carrier_resolve(
                store=store, name=name, tracking_number=number, mappings=mappings
            )
        return memo[key]

    return resolve


def _insert_all(model: type[Model], objs: list[Any]) -> bool:
    """Insert `objs`; True when every one was inserted and has its pk (PostgreSQL and SQLite
    return them), so nothing needs reading back. When a concurrent way in stored one of them
    meanwhile, insert the others (False: read them back by their natural key)."""
    try:
        with transaction.atomic():  # a savepoint: a clash undoes only this
            model.objects.bulk_create(objs, batch_size=500)
    except IntegrityError:
        for obj in objs:  # batches before the clash were rolled back with it
            obj.pk = None
            obj._state.adding = True
        model.objects.bulk_create(objs, ignore_conflicts=True, batch_size=500)
        return False
    return all(obj.pk is not None for obj in objs)


def _orders(store: Store, rows: Sequence[Incoming], now: dt.datetime) -> dict[str, Order]:
    """The rows' orders by number: created when missing, the e-mail brought up to date."""
    wanted: dict[str, Incoming] = {}
    for row in rows:
        wanted[row.order_number] = row  # the last row of an order says its e-mail
    numbers = list(wanted)
    found: dict[str, Order] = {}
    for batch in _batches(numbers):
        found.update(
            (o.order_number, o) for o in Order.objects.filter(store=store, order_number__in=batch)
        )
    missing = [n for n in numbers if n not in found]
    if missing:
        created = [
            Order(
                store=store,
                order_number=n,
                customer_email=wanted[n].email,
                customer_name=wanted[n].customer_name,
                placed_at=wanted[n].shipped_at or now,
            )
            for n in missing
        ]
        if _insert_all(Order, created):
            found.update((o.order_number, o) for o in created)
        else:
            for batch in _batches(missing):
                found.update(
                    (o.order_number, o)
                    for o in Order.objects.filter(store=store, order_number__in=batch)
                )
    stale = []
    for number, order in found.items():
        row = wanted[number]
        if row.email and order.customer_email != row.email:
            order.customer_email = row.email
            stale.append(order)
    if stale:
        Order.objects.bulk_update(stale, ["customer_email"], batch_size=500)
    return found


def _match(candidates: list[Shipment], code: str | None, explicit: bool) -> Shipment | None:
    """The existing shipment a row means: the same carrier and number; else the number without a
    carrier (it gets one now); else, when the shop named no carrier, the number at any carrier."""
    for shipment in candidates:
        if shipment.carrier == code:
            return shipment
    for shipment in candidates:
        if shipment.carrier is None:
            return shipment
    if not explicit and candidates:
        return candidates[0]
    return None


def shipments_ingest(
    *,
    store: Store,
    rows: Sequence[Incoming],
    first_pull: Literal["chunks", "run"] = "chunks",
    source: str = RequestSource.MERCHANT,
    user: Any = None,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Create or update the rows' orders and shipments, in one transaction, and pull the new or
    changed ones once (on commit): as loose chunks, or as one sync run (`first_pull="run"`).

    The same (carrier, tracking number) again is the same shipment: an idempotent way in.
    """
    now = now or timezone.now()
    resolve = _resolver(store)
    matches = [resolve(row.carrier, row.tracking_number) for row in rows]
    with transaction.atomic():
        orders = _orders(store, rows, now)
        numbers = list({row.tracking_number for row in rows})
        by_number: dict[str, list[Shipment]] = defaultdict(list)
        for batch in _batches(numbers):
            for shipment in Shipment.objects.filter(store=store, tracking_number__in=batch):
                by_number[shipment.tracking_number].append(shipment)
        existing_ids = {s.pk for group in by_number.values() for s in group}

        chosen: list[Shipment] = []
        new: list[Shipment] = []
        changed: dict[int, Shipment] = {}
        pull: set[int] = set()
        for row, match in zip(rows, matches, strict=True):
            explicit = match.found_by in ("catalogue", "store_mapping")
            shipment = _match(by_number[row.tracking_number], match.code, explicit)
            if shipment is None:
                shipment = Shipment(
                    store=store,
                    order=orders[row.order_number],
                    carrier=match.code,
                    tracking_number=row.tracking_number,
                    shipped_at=row.shipped_at or now,
                    next_sync_at=now + FIRST_PULL_SAFETY_NET if match.code else None,
                    external_id=row.external_id,
                    external_updated_at=row.external_updated_at,
                )
                by_number[row.tracking_number].append(shipment)
                new.append(shipment)
            elif shipment.pk is not None:
                was_changed, needs_pull = _update(shipment, row, match.code, now)
                if was_changed:
                    changed[shipment.pk] = shipment
                if needs_pull:
                    pull.add(shipment.pk)
            chosen.append(shipment)
        if changed:
            Shipment.objects.bulk_update(
                list(changed.values()),
                [
                    "carrier",
                    "shipped_at",
                    "cancelled_at",
                    "next_sync_at",
                    "external_id",
                    "external_updated_at",
                    "updated_at",
                ],
                batch_size=500,
            )
        if new and not _insert_all(Shipment, new):
            # A concurrent way in stored one of these numbers meanwhile: keep its row.
            stored: dict[tuple[str | None, str], Shipment] = {}
            for batch in _batches([s.tracking_number for s in new]):
                for shipment in Shipment.objects.filter(store=store, tracking_number__in=batch):
                    stored[(shipment.carrier, shipment.tracking_number)] = shipment
            chosen = [stored.get((s.carrier, s.tracking_number), s) for s in chosen]
        result = IngestResult(shipments=chosen)
        for shipment in chosen:
            if shipment.pk in existing_ids:
                result.updated.add(shipment.pk)
            else:
                result.created.add(shipment.pk)
                if shipment.carrier:
                    pull.add(shipment.pk)
        result.pulled = pull
        pulls = [(s.pk, s.carrier) for s in {s.pk: s for s in chosen}.values() if s.pk in pull]
        if pulls and first_pull == "run":
            result.run = _import_run(store, pulls, source=source, user=user, now=now)
        elif pulls:
            planned = chunk_by_carrier(pulls)
            transaction.on_commit(lambda: first_pulls_request(planned), robust=True)
    logger.info(
        "ingest: %s rows, %s created, %s updated, %s to pull",
        len(rows),
        len(result.created),
        len(result.updated),
        len(pull),
    )
    return result


def _update(
    shipment: Shipment, row: Incoming, code: str | None, now: dt.datetime
) -> tuple[bool, bool]:
    """Bring an existing shipment up to what the row says: (anything changed, pull it now) — a
    pull when it gets its first carrier or is tracked again after a cancellation."""
    before = (
        shipment.carrier,
        shipment.shipped_at,
        shipment.cancelled_at,
        shipment.external_id,
        shipment.external_updated_at,
    )
    needs_pull = False
    if shipment.carrier is None and code:
        shipment.carrier = code
        shipment.next_sync_at = now + FIRST_PULL_SAFETY_NET
        needs_pull = True
    if row.shipped_at and row.shipped_at != shipment.shipped_at:
        shipment.shipped_at = row.shipped_at
    if shipment.cancelled_at is not None:  # sent again: the shop tracks it again
        shipment.cancelled_at = None
        if shipment.carrier and not shipment.is_final:
            shipment.next_sync_at = now + FIRST_PULL_SAFETY_NET
            needs_pull = True
    if row.external_id:
        shipment.external_id = row.external_id
    if row.external_updated_at:
        shipment.external_updated_at = row.external_updated_at
    after = (
        shipment.carrier,
        shipment.shipped_at,
        shipment.cancelled_at,
        shipment.external_id,
        shipment.external_updated_at,
    )
    if after != before:
        shipment.updated_at = now
        return True, needs_pull
    return False, False


def _import_run(
    store: Store, pulls: list[tuple[int, str]], *, source: str, user: Any, now: dt.datetime
) -> SyncRun:
    """One sync run (window `import`) whose items are the shipments to pull; no cooldown."""
    user = user if getattr(user, "is_authenticated", False) else None
    run = SyncRun.objects.create(
        store=store,
        window=SyncWindow.IMPORT,
        source=source,
        requested_by=user,
        total=len(pulls),
        state=RunState.QUEUED,
    )
    _insert_run_items(run.pk, pulls)
    transaction.on_commit(lambda: enqueue.run_dispatch(run.pk), robust=True)
    return run


def _insert_run_items(run_id: int, pulls: list[tuple[int, str]]) -> None:
    """The run's items as one parameterised INSERT run with `executemany`: the ORM's
    `bulk_create` spent ~1.5 s of a 10,000-row import preparing these five plain values."""
    meta = SyncRunItem._meta
    connection = connections[router.db_for_write(SyncRunItem)]
    names = ("run", "shipment", "carrier", "outcome", "error")
    columns = [meta.get_field(name).column for name in names]
    sql = insert_statement(meta.db_table, columns, connection)
    pending = SyncRunItem.Outcome.PENDING.value
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(run_id, pk, carrier, pending, "") for pk, carrier in pulls])


def shipments_cancel(*, store: Store, shipment_ids: Iterable[int], now: dt.datetime) -> int:
    """The shop cancelled these shipments: off the schedule and the tracking page (kept)."""
    return Shipment.objects.filter(
        store=store, pk__in=list(shipment_ids), cancelled_at__isnull=True
    ).update(cancelled_at=now, next_sync_at=None, updated_at=now)
