"""Bulk runs: planning a run into carrier chunks, pulling a chunk, and accounting for every
shipment of a run exactly once (a redelivered chunk changes nothing)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from resync_site.logging import log_context

from .. import cooldowns
from ..carriers import catalogue
from ..carriers.base import BatchOutcome, CarrierError, Throttled, TrackingNumberNotFound
from ..messages import error_message
from ..models import ACTIVE_RUN_STATES, RunState, Shipment, SyncRun, SyncRunItem, SyncWindow
from .bulk import store_window_queryset
from .pulls import (
    STORE_ERRORS,
    fetch,
    retry_delay,
    shipments_apply_results,
    shipments_mark_failed,
)

logger = logging.getLogger("shipments.services")  # one name, as before the split

# Shipments per chunk task for carriers whose API takes one number per request: at least
# MIN_CHUNK, and enough for FAN_OUT_ROUNDS rounds of the adapter's CARRIER_MAX_CONCURRENCY
# requests in flight, so a chunk's fixed costs (task, queries, thread pool) are shared out.
MIN_CHUNK = 32
FAN_OUT_ROUNDS = 2


def chunk_size(carrier: str) -> int:
    """Shipments per chunk task for `carrier`."""
    info = catalogue.get(carrier)
    if info is None:
        return MIN_CHUNK
    batch = info.batch_size
    if batch == 1:
        return max(MIN_CHUNK, FAN_OUT_ROUNDS * settings.CARRIER_MAX_CONCURRENCY)
    return batch * max(1, -(-MIN_CHUNK // batch)) if batch < MIN_CHUNK else batch


def chunk_by_carrier(rows: Iterable[tuple[int, str]]) -> list[tuple[str, list[int]]]:
    """(shipment id, carrier) rows → (carrier, ids) chunks sized to each carrier's batch limit."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for shipment_id, carrier in rows:
        grouped[carrier].append(shipment_id)
    chunks = []
    for carrier, ids in sorted(grouped.items()):
        size = chunk_size(carrier)
        chunks.extend((carrier, ids[i : i + size]) for i in range(0, len(ids), size))
    return chunks


def sync_run_dispatch(*, run_id: int) -> list[tuple[str, list[int]]]:
    """Select the run's shipments in one query, record them as its items, and return the chunks
    still to do. Safe to repeat (a redelivered dispatcher re-plans only what is pending)."""
    run = SyncRun.objects.select_related("store").filter(pk=run_id).first()
    if run is None or run.state not in ACTIVE_RUN_STATES:
        return []
    now = timezone.now()
    with log_context(store=run.store_id, run=run.pk):
        # An import's run was given its shipments when it was created.
        rows = []
        if run.window != SyncWindow.IMPORT:
            rows = list(
                store_window_queryset(store=run.store, window=run.window, now=run.created_at)
                .order_by()
                .values_list("id", "carrier")
            )
        with transaction.atomic():
            SyncRunItem.objects.bulk_create(
                [SyncRunItem(run=run, shipment_id=sid, carrier=carrier) for sid, carrier in rows],
                ignore_conflicts=True,
                batch_size=1000,
            )
            total = SyncRunItem.objects.filter(run=run).count()
            SyncRun.objects.filter(pk=run.pk, state__in=ACTIVE_RUN_STATES).update(
                state=RunState.RUNNING,
                total=total,
                started_at=Coalesce(F("started_at"), now),
                progressed_at=now,
            )
            _finish_if_done(run.pk, now, store_id=run.store_id)
        pending = SyncRunItem.objects.filter(
            run=run, outcome=SyncRunItem.Outcome.PENDING
        ).values_list("shipment_id", "carrier")
        chunks = chunk_by_carrier(pending)
        logger.info("run dispatched: %s shipments in %s chunks", total, len(chunks))
        return chunks


def _finish_if_done(run_id: int, now: dt.datetime, *, store_id: int | None = None) -> bool:
    """Close the run once every shipment is accounted for; lift the in-progress lock.

    One UPDATE per call (it runs after every chunk); the store is read only when it finished.
    """
    finished = SyncRun.objects.filter(
        pk=run_id, state__in=ACTIVE_RUN_STATES, done=F("total")
    ).update(
        state=Case(
            When(failed=0, then=Value(RunState.COMPLETED)),
            default=Value(RunState.COMPLETED_WITH_ERRORS),
        ),
        finished_at=now,
    )
    if finished:
        if store_id is None:
            store_id = SyncRun.objects.values_list("store_id", flat=True).get(pk=run_id)
        transaction.on_commit(lambda: cooldowns.release_bulk_run(store_id, run_id))
        logger.info("run finished")
    return bool(finished)


def sync_run_fail(*, run_id: int, reason: str) -> None:
    """The run cannot go on at all (e.g. its dispatcher keeps failing)."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return
    with transaction.atomic():
        updated = SyncRun.objects.filter(pk=run_id, state__in=ACTIVE_RUN_STATES).update(
            state=RunState.FAILED, finished_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: cooldowns.release_bulk_run(run.store_id, run.pk))
    logger.error("run %s failed: %s", run_id, reason)


def _record_run_outcomes(
    run_id: int,
    *,
    changed: Iterable[int],
    unchanged: Iterable[int],
    failed: dict[int, str],
    now: dt.datetime,
) -> None:
    """Account for shipments of a run exactly once: only items still pending are counted, so a
    redelivered chunk adds nothing. Call inside the transaction that applied the results."""
    items = SyncRunItem.objects.filter(run_id=run_id, outcome=SyncRunItem.Outcome.PENDING)
    counts = {"changed": 0, "unchanged": 0, "failed": 0}
    if ids := list(changed):
        counts["changed"] = items.filter(shipment_id__in=ids).update(
            outcome=SyncRunItem.Outcome.CHANGED, finished_at=now
        )
    if ids := list(unchanged):
        counts["unchanged"] = items.filter(shipment_id__in=ids).update(
            outcome=SyncRunItem.Outcome.UNCHANGED, finished_at=now
        )
    by_reason: dict[str, list[int]] = defaultdict(list)
    for shipment_id, reason in failed.items():
        by_reason[reason].append(shipment_id)
    for reason, ids in by_reason.items():
        counts["failed"] += items.filter(shipment_id__in=ids).update(
            outcome=SyncRunItem.Outcome.FAILED, error=reason[:500], finished_at=now
        )
    accounted = sum(counts.values())
    if accounted:
        SyncRun.objects.filter(pk=run_id).update(
            done=F("done") + accounted,
            changed=F("changed") + counts["changed"],
            unchanged=F("unchanged") + counts["unchanged"],
            failed=F("failed") + counts["failed"],
            progressed_at=now,
        )
        _finish_if_done(run_id, now)


@dataclass
class ChunkPlan:
    """What a chunk task does next: retry some shipments after `delay` seconds."""

    retry_ids: list[int] = field(default_factory=list)
    delay: float = 0.0
    counts_as_attempt: bool = True


def _chunk_shipments(run_id: int | None, shipment_ids: list[int]) -> list[Shipment]:
    """The chunk's shipments still to do (for a run: those whose item is still pending)."""
    queryset = Shipment.objects.filter(pk__in=shipment_ids)
    if run_id is not None:
        pending = SyncRunItem.objects.filter(
            run_id=run_id, shipment_id__in=shipment_ids, outcome=SyncRunItem.Outcome.PENDING
        ).values("shipment_id")
        queryset = queryset.filter(pk__in=pending)
    return list(queryset)


def _plan_failures(
    shipments: list[Shipment], outcome: BatchOutcome, *, carrier: str, attempt: int
) -> tuple[ChunkPlan, dict[int, str]]:
    """Sort the shipments the carrier gave no result for: transient errors are retried later
    (our own throttle without counting an attempt), the others fail with the merchant's reason."""
    retry_ids: list[int] = []
    delays: list[float] = []
    failed: dict[int, str] = {}
    only_throttled = True
    for shipment in shipments:
        if shipment.tracking_number in outcome.results:
            continue
        error = outcome.errors.get(shipment.tracking_number) or CarrierError(
            "no answer for this number", carrier=carrier
        )
        throttled = isinstance(error, Throttled)
        if error.transient and (throttled or attempt < settings.CARRIER_MAX_RETRIES):
            retry_ids.append(shipment.pk)
            delays.append(retry_delay(attempt, error))
            only_throttled = only_throttled and throttled
        else:
            failed[shipment.pk] = error_message(error)
            if not isinstance(error, TrackingNumberNotFound):
                logger.warning("shipment %s: %s", shipment.pk, error.message)
    plan = ChunkPlan(
        retry_ids=retry_ids,
        delay=max(delays) if delays else 0.0,
        counts_as_attempt=not only_throttled,
    )
    return plan, failed


def _write_chunk(
    run_id: int | None,
    shipments: list[Shipment],
    outcome: BatchOutcome,
    failed: dict[int, str],
    now: dt.datetime,
) -> None:
    """One transaction: results applied, failures recorded, the run's items counted once.

    When the database refuses part of it (a value it cannot store), nothing of it stays and the
    chunk is written again one shipment at a time (`_write_one_by_one`): the error costs
    queries, the usual chunk none.
    """
    try:
        with transaction.atomic():
            changed = shipments_apply_results(shipments=shipments, results=outcome.results, now=now)
            _record_chunk(run_id, shipments, outcome, changed, failed, now)
    except STORE_ERRORS as exc:
        logger.warning("chunk not written at once (%s): one shipment at a time", type(exc).__name__)
        _write_one_by_one(run_id, [s.pk for s in shipments], outcome, failed, now)


def _write_one_by_one(
    run_id: int | None,
    shipment_ids: list[int],
    outcome: BatchOutcome,
    failed: dict[int, str],
    now: dt.datetime,
) -> None:
    """Apply each shipment's result in its own savepoint: one the database refuses fails on its
    own (the merchant's reason, a log line with its id and the error's kind, never the data),
    the others are applied; then the failures and the run's items in one transaction."""
    shipments = list(Shipment.objects.filter(pk__in=shipment_ids))  # as before the rollback
    failed = dict(failed)
    changed: set[int] = set()
    with transaction.atomic():
        for shipment in shipments:
            result = outcome.results.get(shipment.tracking_number)
            if result is None:
                continue
            try:
                with transaction.atomic():
                    changed |= shipments_apply_results(
                        shipments=[shipment], results={shipment.tracking_number: result}, now=now
                    )
            except STORE_ERRORS as exc:
                failed[shipment.pk] = error_message("not_stored")
                logger.error(
                    "shipment %s: the carrier's answer could not be stored (%s)",
                    shipment.pk,
                    type(exc).__name__,
                )
        _record_chunk(run_id, shipments, outcome, changed, failed, now)


def _record_chunk(
    run_id: int | None,
    shipments: list[Shipment],
    outcome: BatchOutcome,
    changed: set[int],
    failed: dict[int, str],
    now: dt.datetime,
) -> None:
    """The chunk's failures on their shipments, and its run's items counted once."""
    for reason in set(failed.values()):
        shipments_mark_failed(
            shipment_ids=[sid for sid, r in failed.items() if r == reason],
            reason=reason,
            now=now,
        )
    if run_id is not None:
        unchanged = [
            s.pk
            for s in shipments
            if s.tracking_number in outcome.results and s.pk not in changed and s.pk not in failed
        ]
        _record_run_outcomes(run_id, changed=changed, unchanged=unchanged, failed=failed, now=now)


def sync_chunk(
    *, run_id: int | None, carrier: str, shipment_ids: list[int], attempt: int = 0
) -> ChunkPlan:
    """Pull one carrier batch and write it: fetch outside transactions, then one transaction
    that applies the results and accounts for the run's shipments exactly once.

    Transient failures come back in the plan (retry later, bounded by CARRIER_MAX_RETRIES);
    permanent ones are recorded on the shipments (their last good data stays).
    """
    with log_context(run=run_id, carrier=carrier):
        shipments = _chunk_shipments(run_id, shipment_ids)
        if not shipments:
            return ChunkPlan()
        outcome = fetch(carrier, sorted({s.tracking_number for s in shipments}))
        plan, failed = _plan_failures(shipments, outcome, carrier=carrier, attempt=attempt)
        _write_chunk(run_id, shipments, outcome, failed, timezone.now())
        if plan.retry_ids:
            logger.info(
                "%s shipments to retry in %.1fs (attempt %s)",
                len(plan.retry_ids),
                plan.delay,
                attempt,
            )
        return plan
