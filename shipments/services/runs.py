"""Services: the only way anything writes resyncs, runs, events and the audit.

Views, admin actions, management commands and Celery tasks parse their input and call one of
these. Network I/O (`fetch`) happens outside any transaction; writes are short transactions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Case, F, Model, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from resync_site.logging import log_context

from . import cooldowns
from .carriers import catalogue
from .carriers.base import (
    BatchOutcome,
    CarrierError,
    InvalidCredentials,
    Throttled,
    TrackingNumberNotFound,
    TrackingResult,
)
from .carriers.registry import UnknownCarrier, get_adapter
from .kv import RedisError, StoreUnavailable, get_redis
from .models import (
    ACTIVE_RUN_STATES,
    FINAL_STATUSES,
    RequestSource,
    ResyncJob,
    ResyncRequest,
    RunState,
    Shipment,
    ShipmentStatus,
    Store,
    SyncOutcome,
    SyncRun,
    SyncRunItem,
    TrackingEvent,
)
from .windows import parse_window, window_bounds

logger = logging.getLogger(__name__)

SUCCESS_MESSAGE = gettext_lazy(
    "Shipment details are re-synced successfully! "
    "The latest info is now updated on the tracking page as well."
)

# How soon the scheduled sync pulls a shipment again, by status (final statuses: never).
NEXT_SYNC_AFTER = {
    ShipmentStatus.PENDING: dt.timedelta(hours=5),
    ShipmentStatus.INFO_RECEIVED: dt.timedelta(hours=4),
    ShipmentStatus.IN_TRANSIT: dt.timedelta(hours=3),
    ShipmentStatus.OUT_FOR_DELIVERY: dt.timedelta(hours=1),
    ShipmentStatus.FAILED_ATTEMPT: dt.timedelta(hours=2),
    ShipmentStatus.AVAILABLE_FOR_PICKUP: dt.timedelta(hours=6),
    ShipmentStatus.EXCEPTION: dt.timedelta(hours=6),
}
# A shipment without news for this long leaves the schedule as `expired`.
EXPRESS_CARRIERS = catalogue.EXPRESS_CODES
EXPIRE_AFTER_EXPRESS = dt.timedelta(days=30)
EXPIRE_AFTER_POSTAL = dt.timedelta(days=60)
# Shipments per chunk task for carriers whose API takes one number per request: at least
# MIN_CHUNK, and enough for FAN_OUT_ROUNDS rounds of the adapter's CARRIER_MAX_CONCURRENCY
# requests in flight, so a chunk's fixed costs (task, queries, thread pool) are shared out.
MIN_CHUNK = 32
FAN_OUT_ROUNDS = 2

ERROR_MESSAGES = {
    "not_found": gettext_lazy("The carrier does not know this tracking number (yet)."),
    "rejected": gettext_lazy("The carrier rejected this tracking number."),
    "bad_credentials": gettext_lazy(
        "The carrier refused our access credentials; our team has been alerted."
    ),
    "rate_limited": gettext_lazy("The carrier is busy right now; please try again in a while."),
    "throttled": gettext_lazy("The carrier is busy right now; please try again in a while."),
    "unavailable": gettext_lazy("The carrier could not be reached; please try again later."),
    "unknown_carrier": gettext_lazy("This carrier is not supported."),
}


def humanize_wait(seconds: int) -> str:
    """`252` → "4 min 12 s"; `3600` → "1 h 0 min"; `9` → "9 s"."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def error_message(error: CarrierError | str) -> str:
    code = error if isinstance(error, str) else error.code
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["unavailable"]))


@dataclass(frozen=True)
class ResyncVerdict:
    """The answer to one resync request."""

    accepted: bool
    retry_after: int
    reason: str = ""
    job: ResyncJob | None = None
    run: SyncRun | None = None

    @property
    def message(self) -> str:
        if self.accepted:
            return _("Resync started.")
        if self.reason == cooldowns.REASON_IN_PROGRESS:
            return _("A resync of this store is in progress. You can resync again in %(wait)s.") % {
                "wait": humanize_wait(self.retry_after)
            }
        return _("You can resync again in %(wait)s.") % {"wait": humanize_wait(self.retry_after)}


def _audit(**fields: Any) -> ResyncRequest:
    return ResyncRequest.objects.create(**fields)


def _enqueue(task: Any, *args: Any, queue: str) -> None:
    """Publish a task; a broker that does not answer becomes `StoreUnavailable` (→ 503)."""
    from kombu.exceptions import OperationalError

    try:
        task.apply_async(args=args, queue=queue)
    except (OperationalError, RedisError, OSError) as exc:
        raise StoreUnavailable(f"broker unavailable: {exc}") from exc


# --- Single shipment resync -----------------------------------------------------------------------


def shipment_resync(
    *,
    shipment: Shipment,
    source: str,
    user: Any = None,
    ip_address: str | None = None,
    force: bool = False,
) -> ResyncVerdict:
    """Request a resync of one shipment: one shared 5-minute cooldown for every place that asks.

    Raises `StoreUnavailable` when Redis or the broker does not answer (nothing is queued then).
    `force` (ops) skips the cooldown check but still starts it.
    """

    user = user if getattr(user, "is_authenticated", False) else None
    audit = {
        "store_id": shipment.store_id,
        "kind": ResyncRequest.Kind.SINGLE,
        "source": source,
        "user": user,
        "ip_address": ip_address,
        "shipment": shipment,
        "forced": force,
    }
    with log_context(store=shipment.store_id, shipment=shipment.pk):
        try:
            if force:
                cooldowns.clear_shipment(shipment.store_id, shipment.pk)
            gate = cooldowns.acquire_shipment(shipment.store_id, shipment.pk)
        except StoreUnavailable:
            _audit(**audit, accepted=False, refused_reason=ResyncRequest.RefusedReason.UNAVAILABLE)
            logger.warning("single resync refused: Redis unavailable")
            raise
        if not gate.accepted:
            _audit(
                **audit, accepted=False, refused_reason=gate.reason, retry_after=gate.retry_after
            )
            return ResyncVerdict(False, gate.retry_after, gate.reason)
        with transaction.atomic():
            job = ResyncJob.objects.create(shipment=shipment, source=source)
            _audit(**audit, accepted=True, retry_after=gate.retry_after, job=job)
            transaction.on_commit(lambda: _enqueue_or_release(job, shipment), robust=False)
        logger.info("single resync accepted (job %s, source %s)", job.pk, source)
        return ResyncVerdict(True, gate.retry_after, job=job)


def shipment_resync_refuse_abuse(
    *, shipment: Shipment, source: str, ip_address: str | None, retry_after: int
) -> ResyncVerdict:
    """Record a resync refused by an abuse limit (e.g. too many from one IP) in the audit."""
    _audit(
        store_id=shipment.store_id,
        kind=ResyncRequest.Kind.SINGLE,
        source=source,
        ip_address=ip_address,
        shipment=shipment,
        accepted=False,
        refused_reason=ResyncRequest.RefusedReason.RATE_LIMITED,
        retry_after=retry_after,
    )
    return ResyncVerdict(False, retry_after, ResyncRequest.RefusedReason.RATE_LIMITED)


def _enqueue_or_release(job: ResyncJob, shipment: Shipment) -> None:
    from . import tasks

    try:
        _enqueue(tasks.resync_shipment, str(job.pk), queue="interactive")
    except StoreUnavailable:
        ResyncJob.objects.filter(pk=job.pk).update(
            state=ResyncJob.State.FAILED,
            message=_("Resync is temporarily unavailable. Please try again shortly."),
            finished_at=timezone.now(),
        )
        with contextlib.suppress(StoreUnavailable):
            cooldowns.clear_shipment(shipment.store_id, shipment.pk)
        raise


def shipment_clear_cooldown(*, shipment: Shipment, user: Any = None) -> bool:
    """Ops: let this shipment be resynced again now (audited)."""
    cleared = cooldowns.clear_shipment(shipment.store_id, shipment.pk)
    _audit(
        store_id=shipment.store_id,
        kind=ResyncRequest.Kind.CLEAR_COOLDOWN,
        source=RequestSource.OPS,
        user=user,
        shipment=shipment,
        accepted=True,
    )
    return cleared


def store_clear_bulk_cooldown(*, store: Store, user: Any = None) -> bool:
    """Ops: let the store start a bulk resync again now (audited)."""
    cleared = cooldowns.clear_bulk(store.pk)
    _audit(
        store=store,
        kind=ResyncRequest.Kind.CLEAR_COOLDOWN,
        source=RequestSource.OPS,
        user=user,
        accepted=True,
    )
    return cleared


# --- Bulk resync ----------------------------------------------------------------------------------


def store_window_queryset(*, store: Store, window: str, now: dt.datetime | None = None):
    start, end = window_bounds(window, time_zone=store.time_zone, now=now or timezone.now())
    return Shipment.objects.filter(store=store, shipped_at__gte=start, shipped_at__lt=end)


def store_bulk_resync(
    *,
    store: Store,
    window: str,
    source: str,
    user: Any = None,
    ip_address: str | None = None,
    force: bool = False,
) -> ResyncVerdict:
    """Request a bulk resync of the store's shipments shipped in `window`.

    Raises `BadWindow` for an unknown window and `StoreUnavailable` when Redis or the broker
    does not answer. One accepted request per store per cooldown, and none while a run is active.
    """
    from . import tasks

    window = parse_window(window)
    user = user if getattr(user, "is_authenticated", False) else None
    audit = {
        "store": store,
        "kind": ResyncRequest.Kind.BULK,
        "source": source,
        "user": user,
        "ip_address": ip_address,
        "window": window,
        "forced": force,
    }
    now = timezone.now()
    with log_context(store=store.pk):
        refused: cooldowns.Gate | None = None
        try:
            with transaction.atomic():
                active = SyncRun.objects.filter(store=store, state__in=ACTIVE_RUN_STATES).exists()
                if active and not force:
                    refused = cooldowns.Gate(
                        False,
                        cooldowns.bulk_retry_after(store.pk) or 60,
                        cooldowns.REASON_IN_PROGRESS,
                    )
                else:
                    total = store_window_queryset(store=store, window=window, now=now).count()
                    run = SyncRun.objects.create(
                        store=store,
                        window=window,
                        source=source,
                        requested_by=user,
                        total=total,
                    )
                    gate = cooldowns.acquire_bulk(store.pk, run_id=run.pk, force=force)
                    if gate.accepted and not force:
                        left = _bulk_cooldown_left(store=store, now=now)
                        if left > 0:
                            logger.warning("bulk cooldown missing in Redis: restored from audit")
                            gate = cooldowns.restore_bulk(store.pk, run_id=run.pk, seconds=left)
                    if not gate.accepted:
                        refused = gate
                        transaction.set_rollback(True)
                    else:
                        _audit(**audit, accepted=True, retry_after=gate.retry_after, sync_run=run)
                        transaction.on_commit(
                            lambda: _enqueue(tasks.dispatch_sync_run, run.pk, queue="bulk"),
                            robust=False,
                        )
        except StoreUnavailable:
            _audit(**audit, accepted=False, refused_reason=ResyncRequest.RefusedReason.UNAVAILABLE)
            logger.warning("bulk resync refused: Redis or broker unavailable")
            raise
        if refused is not None:
            _audit(
                **audit,
                accepted=False,
                refused_reason=refused.reason,
                retry_after=refused.retry_after,
            )
            return ResyncVerdict(False, refused.retry_after, refused.reason)
        logger.info("bulk resync accepted: run %s, window %s, %s shipments", run.pk, window, total)
        return ResyncVerdict(True, gate.retry_after, run=run)


def _bulk_cooldown_left(*, store: Store, now: dt.datetime) -> float:
    """Seconds left of the store's bulk cooldown by the audit: since the last accepted bulk
    resync, unless ops cleared the cooldown after it (0.0: none). Redis holds the cooldown; this
    only catches a Redis that lost it (restarted empty), once Redis has accepted a request."""
    cooldown = dt.timedelta(seconds=settings.STORE_BULK_RESYNC_COOLDOWN_SECONDS)
    audit = ResyncRequest.objects.filter(store=store)
    last = (
        audit.filter(kind=ResyncRequest.Kind.BULK, accepted=True, created_at__gt=now - cooldown)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return 0.0
    cleared = audit.filter(
        kind=ResyncRequest.Kind.CLEAR_COOLDOWN, shipment__isnull=True, created_at__gt=last
    ).exists()
    return 0.0 if cleared else (last + cooldown - now).total_seconds()


def _chunk_size(carrier: str) -> int:
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
        size = _chunk_size(carrier)
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


# --- Pulling and applying carrier data ------------------------------------------------------------


class UnsupportedCarrier(CarrierError):
    code = "unknown_carrier"


def fetch(carrier: str, tracking_numbers: list[str]) -> BatchOutcome:
    """Ask the carrier (network I/O: never call inside a transaction)."""
    try:
        adapter = get_adapter(carrier)
    except UnknownCarrier:
        error = UnsupportedCarrier(f"unknown carrier {carrier}", carrier=carrier)
        return BatchOutcome(errors=dict.fromkeys(tracking_numbers, error))
    try:
        return adapter.track(tracking_numbers)
    except CarrierError as exc:
        return BatchOutcome(errors=dict.fromkeys(tracking_numbers, exc))


def next_sync_at(status: str, now: dt.datetime) -> dt.datetime | None:
    if status in FINAL_STATUSES:
        return None
    base = NEXT_SYNC_AFTER.get(ShipmentStatus(status), dt.timedelta(hours=4))
    return now + base * random.uniform(0.9, 1.1)


_APPLIED_FIELDS = [
    "status",
    "sub_status",
    "carrier_status_code",
    "carrier_status_text",
    "estimated_delivery",
    "origin",
    "destination",
    "last_event_at",
    "last_synced_at",
    "last_sync_outcome",
    "last_sync_error",
    "next_sync_at",
]
_COMPARED_FIELDS = _APPLIED_FIELDS[:8]


def shipments_apply_results(
    *, shipments: list[Shipment], results: dict[str, TrackingResult], now: dt.datetime
) -> set[int]:
    """Write carrier results: new events (never twice), the shipment's latest state, sync outcome.

    Returns the ids of shipments whose visible data changed. Runs in one short transaction.
    """
    targets = [s for s in shipments if s.tracking_number in results]
    if not targets:
        return set()
    existing = set(
        TrackingEvent.objects.filter(shipment_id__in=[s.pk for s in targets]).values_list(
            "shipment_id", "fingerprint"
        )
    )
    new_events: list[TrackingEvent] = []
    changed: set[int] = set()
    for shipment in targets:
        result = results[shipment.tracking_number]
        for event in result.events:
            fingerprint = event.fingerprint  # a hash: compute it once
            key = (shipment.pk, fingerprint)
            if key in existing:
                continue
            existing.add(key)
            changed.add(shipment.pk)
            new_events.append(
                TrackingEvent(
                    shipment=shipment,
                    occurred_at=event.occurred_at,
                    status=event.status,
                    description=event.description[:500],
                    location=event.location[:200],
                    raw_code=event.raw_code[:64],
                    fingerprint=fingerprint,
                )
            )
        before = [getattr(shipment, name) for name in _COMPARED_FIELDS]
        shipment.status = result.status
        shipment.sub_status = result.sub_status[:64]
        shipment.carrier_status_code = result.raw_status_code[:64]
        shipment.carrier_status_text = result.raw_status_text[:500]
        shipment.estimated_delivery = result.estimated_delivery
        shipment.origin = (result.origin or shipment.origin)[:200]
        shipment.destination = (result.destination or shipment.destination)[:200]
        if result.events:
            latest = max(e.occurred_at for e in result.events)
            if shipment.last_event_at is None or latest > shipment.last_event_at:
                shipment.last_event_at = latest
        if before != [getattr(shipment, name) for name in _COMPARED_FIELDS]:
            changed.add(shipment.pk)
        shipment.last_synced_at = now
        shipment.last_sync_outcome = SyncOutcome.OK
        shipment.last_sync_error = ""
        shipment.next_sync_at = next_sync_at(shipment.status, now)
    with transaction.atomic():
        TrackingEvent.objects.bulk_create(new_events, ignore_conflicts=True, batch_size=500)
        _update_by_pk(Shipment, targets, _APPLIED_FIELDS)
    return changed


def _update_by_pk(model: type[Model], objs: list[Model], field_names: list[str]) -> None:
    """Write `field_names` of each object to its row: what `bulk_update` does, as one
    parameterised `UPDATE … WHERE pk = %s` run with `executemany`.

    `bulk_update` builds a `CASE WHEN pk = … THEN …` expression per object and field, and
    resolving those took most of a bulk chunk's CPU time (~2 ms per shipment; this: ~0.1 ms).
    Values go through each field's `get_db_prep_save`, as with the ORM; no signals, no
    `auto_now` (as with `bulk_update`).
    """
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in field_names]
    # Identifiers come from the model's meta (quoted); every value is a parameter.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in fields),
        quote(model._meta.pk.column),
    )
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def shipments_mark_failed(*, shipment_ids: list[int], reason: str, now: dt.datetime) -> None:
    """Record a failed sync; the last good data stays as it was. Shipments still moving are
    tried again by the schedule in 6 hours."""
    if not shipment_ids:
        return
    fields: dict[str, Any] = {
        "last_synced_at": now,
        "last_sync_outcome": SyncOutcome.ERROR,
        "last_sync_error": reason[:500],
    }
    queryset = Shipment.objects.filter(pk__in=shipment_ids)
    queryset.exclude(status__in=FINAL_STATUSES).update(
        **fields, next_sync_at=now + dt.timedelta(hours=6)
    )
    queryset.filter(status__in=FINAL_STATUSES).update(**fields)


def retry_delay(attempt: int, error: CarrierError, *, cap: float | None = None) -> float:
    """Exponential backoff with full jitter; a carrier's Retry-After wins when it says more."""
    cap = float(cap if cap is not None else settings.CARRIER_MAX_RETRY_DELAY)
    base = float(settings.CARRIER_RETRY_BASE_DELAY)
    backoff = random.uniform(base / 2, base * (2**attempt))
    if error.retry_after is not None:
        backoff = max(float(error.retry_after), 0.05) + random.uniform(0, base / 4)
    return min(cap, backoff)


@dataclass
class ChunkPlan:
    """What a chunk task does next: retry some shipments after `delay` seconds."""

    retry_ids: list[int] = field(default_factory=list)
    delay: float = 0.0
    counts_as_attempt: bool = True


def sync_chunk(
    *, run_id: int | None, carrier: str, shipment_ids: list[int], attempt: int = 0
) -> ChunkPlan:
    """Pull one carrier batch and write it: fetch outside transactions, then one transaction
    that applies the results and accounts for the run's shipments exactly once.

    Transient failures come back in the plan (retry later, bounded by CARRIER_MAX_RETRIES);
    permanent ones are recorded on the shipments (their last good data stays).
    """
    with log_context(run=run_id, carrier=carrier):
        queryset = Shipment.objects.filter(pk__in=shipment_ids)
        if run_id is not None:
            pending = SyncRunItem.objects.filter(
                run_id=run_id, shipment_id__in=shipment_ids, outcome=SyncRunItem.Outcome.PENDING
            ).values("shipment_id")
            queryset = queryset.filter(pk__in=pending)
        shipments = list(queryset)
        if not shipments:
            return ChunkPlan()
        numbers = sorted({s.tracking_number for s in shipments})
        outcome = fetch(carrier, numbers)
        now = timezone.now()
        retry_ids: list[int] = []
        failed: dict[int, str] = {}
        delays: list[float] = []
        only_throttled = True
        for shipment in shipments:
            if shipment.tracking_number in outcome.results:
                continue
            error = outcome.errors.get(shipment.tracking_number) or CarrierError(
                "no answer for this number", carrier=carrier
            )
            if error.transient and (
                isinstance(error, Throttled) or attempt < settings.CARRIER_MAX_RETRIES
            ):
                retry_ids.append(shipment.pk)
                delays.append(retry_delay(attempt, error))
                only_throttled = only_throttled and isinstance(error, Throttled)
            else:
                failed[shipment.pk] = error_message(error)
                if not isinstance(error, TrackingNumberNotFound):
                    logger.warning("shipment %s: %s", shipment.pk, error.message)
        with transaction.atomic():
            changed = shipments_apply_results(shipments=shipments, results=outcome.results, now=now)
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
                    if s.tracking_number in outcome.results and s.pk not in changed
                ]
                _record_run_outcomes(
                    run_id, changed=changed, unchanged=unchanged, failed=failed, now=now
                )
        if retry_ids:
            logger.info(
                "%s shipments to retry in %.1fs (attempt %s)", len(retry_ids), max(delays), attempt
            )
        return ChunkPlan(
            retry_ids=retry_ids,
            delay=max(delays) if delays else 0.0,
            counts_as_attempt=not only_throttled,
        )


# --- Single resync jobs ---------------------------------------------------------------------------

# An interactive resync has a person waiting: few, short retries.
JOB_MAX_ATTEMPTS = 3
JOB_MAX_DELAY = 10.0


def resync_job_execute(*, job_id: str, attempt: int = 0) -> float | None:
    """Run one single-shipment resync job. Returns a delay to retry after, or None when done.

    A redelivered job that already finished does nothing.
    """
    job = ResyncJob.objects.select_related("shipment").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    shipment = job.shipment
    with log_context(store=shipment.store_id, shipment=shipment.pk, job=job.pk):
        ResyncJob.objects.filter(pk=job.pk).update(
            state=ResyncJob.State.RUNNING, attempts=F("attempts") + 1
        )
        outcome = fetch(shipment.carrier, [shipment.tracking_number])
        now = timezone.now()
        result = outcome.results.get(shipment.tracking_number)
        if result is not None:
            changed = shipments_apply_results(
                shipments=[shipment], results={shipment.tracking_number: result}, now=now
            )
            ResyncJob.objects.filter(pk=job.pk).update(
                state=ResyncJob.State.SUCCEEDED,
                message=str(SUCCESS_MESSAGE),
                changed=bool(changed),
                finished_at=now,
            )
            logger.info("single resync succeeded (changed=%s)", bool(changed))
            return None
        error = outcome.errors.get(shipment.tracking_number) or CarrierError("no answer")
        # Retry transient failures a few times, unless the carrier asks us to wait longer than
        # a person would: then fail now and say so.
        if (
            error.transient
            and attempt + 1 < JOB_MAX_ATTEMPTS
            and (error.retry_after is None or error.retry_after <= JOB_MAX_DELAY)
        ):
            return retry_delay(attempt, error, cap=JOB_MAX_DELAY)
        reason = error_message(error)
        with transaction.atomic():
            shipments_mark_failed(shipment_ids=[shipment.pk], reason=reason, now=now)
            ResyncJob.objects.filter(pk=job.pk).update(
                state=ResyncJob.State.FAILED, message=reason, changed=False, finished_at=now
            )
        level = logging.INFO if isinstance(error, TrackingNumberNotFound) else logging.WARNING
        logger.log(level, "single resync failed: %s", error.message)
        if isinstance(error, InvalidCredentials):
            logger.error("carrier %s refuses our credentials", shipment.carrier)
        return None


# --- Schedule and reconciliation ------------------------------------------------------------------

SCHEDULE_LOCK_KEY = "resync:schedule:lock"


def shipments_expire_stale(*, now: dt.datetime) -> int:
    """Synced shipments with no news for 30 days (express) / 60 days (postal) become `expired`."""
    last_news = Coalesce(F("last_event_at"), F("shipped_at"))
    # Only shipments pulled at least once: one never asked about gets its first pull instead.
    active = (
        Shipment.objects.exclude(status__in=FINAL_STATUSES)
        .filter(last_synced_at__isnull=False)
        .alias(last_news=last_news)
    )
    express = active.filter(
        carrier__in=EXPRESS_CARRIERS, last_news__lt=now - EXPIRE_AFTER_EXPRESS
    ).update(status=ShipmentStatus.EXPIRED, next_sync_at=None)
    postal = (
        active.exclude(carrier__in=EXPRESS_CARRIERS)
        .filter(last_news__lt=now - EXPIRE_AFTER_POSTAL)
        .update(status=ShipmentStatus.EXPIRED, next_sync_at=None)
    )
    return express + postal


def shipments_take_due(*, now: dt.datetime, limit: int = 5000) -> list[tuple[str, list[int]]]:
    """Claim the shipments due for a scheduled sync (oldest first) and plan their chunks.

    Overlapping ticks never double the work: a Redis lock guards the tick, and claimed
    shipments are pushed out of the due window until their sync lands.
    """
    ttl_ms = max(1000, settings.SCHEDULED_SYNC_INTERVAL_SECONDS * 1000)
    try:
        got = get_redis().set(SCHEDULE_LOCK_KEY, str(now.timestamp()), nx=True, px=ttl_ms)
    except RedisError:
        return []
    if not got:
        logger.info("scheduled sync: another tick holds the lock")
        return []
    shipments_expire_stale(now=now)
    rows = list(
        Shipment.objects.filter(next_sync_at__lte=now)
        .exclude(status__in=FINAL_STATUSES)
        .order_by("next_sync_at")
        .values_list("id", "carrier")[:limit]
    )
    if rows:
        Shipment.objects.filter(pk__in=[r[0] for r in rows]).update(
            next_sync_at=now + dt.timedelta(minutes=30)
        )
    return chunk_by_carrier(rows)


def sync_runs_stalled(*, now: dt.datetime) -> list[SyncRun]:
    """Claim active runs without progress for SYNC_RUN_STALL_SECONDS (each claim is atomic, so
    two reconcilers never resume the same run twice)."""
    cutoff = now - dt.timedelta(seconds=settings.SYNC_RUN_STALL_SECONDS)
    candidates = SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).filter(
        Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, created_at__lt=cutoff)
    )
    claimed = []
    for run in candidates:
        won = SyncRun.objects.filter(
            pk=run.pk, state__in=ACTIVE_RUN_STATES, progressed_at=run.progressed_at
        ).update(progressed_at=now)
        if won:
            logger.warning("run %s stalled since %s: resuming", run.pk, run.progressed_at)
            claimed.append(run)
    return claimed


def sync_run_pending_chunks(*, run_id: int) -> list[tuple[str, list[int]]]:
    pending = SyncRunItem.objects.filter(
        run_id=run_id, outcome=SyncRunItem.Outcome.PENDING
    ).values_list("shipment_id", "carrier")
    return chunk_by_carrier(pending)


JOB_RESUME_KEY = "resync:job:{job}:resumed"
JOB_RESUME_BATCH = 500


def resync_jobs_stalled(*, now: dt.datetime) -> list[tuple[str, int]]:
    """Claim single-shipment jobs still unfinished SYNC_RUN_STALL_SECONDS after they were
    accepted: their message was lost (a broker that restarted empty, a worker killed while it
    held the message). Returns (job id, attempts so far) of each job to enqueue again.

    A job is claimed once per stall period (`SET NX PX` in Redis), so overlapping reconcilers
    do not resume it twice; a redelivered job that has finished meanwhile does nothing.
    """
    stall = settings.SYNC_RUN_STALL_SECONDS
    rows = list(
        ResyncJob.objects.filter(
            state__in=(ResyncJob.State.QUEUED, ResyncJob.State.RUNNING),
            created_at__lt=now - dt.timedelta(seconds=stall),
        )
        .order_by("created_at")
        .values_list("pk", "attempts")[:JOB_RESUME_BATCH]
    )
    if not rows:
        return []
    try:
        pipe = get_redis().pipeline(transaction=False)
        for pk, _ in rows:
            pipe.set(JOB_RESUME_KEY.format(job=pk), str(now.timestamp()), nx=True, px=stall * 1000)
        won = pipe.execute()
    except RedisError:
        return []  # the broker is the same Redis: nothing could be enqueued anyway
    claimed = []
    for (pk, attempts), ok in zip(rows, won, strict=True):
        if ok:
            logger.warning("job %s stalled: resuming", pk)
            claimed.append((str(pk), attempts))
    return claimed
