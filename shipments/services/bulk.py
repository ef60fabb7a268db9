"""Bulk resync: a store's shipments of a time window, once an hour, never while a run is on."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from resync_site.logging import log_context

from .. import cooldowns
from ..models import ACTIVE_RUN_STATES, RequestSource, ResyncRequest, Shipment, Store, SyncRun
from ..redis_client import RedisUnavailable
from ..windows import parse_window, window_bounds
from . import enqueue
from .verdicts import ResyncVerdict, audit_request

logger = logging.getLogger("shipments.services")  # one name, as before the split


def store_window_queryset(
    *, store: Store, window: str, now: dt.datetime | None = None
) -> QuerySet[Shipment]:
    """The store's shipments shipped in `window` (the store's time zone) that a run can pull:
    those with a carrier, not cancelled by the shop."""
    start, end = window_bounds(window, time_zone=store.time_zone, now=now or timezone.now())
    return Shipment.objects.filter(
        store=store,
        shipped_at__gte=start,
        shipped_at__lt=end,
        carrier__isnull=False,
        cancelled_at__isnull=True,
    )


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

    Raises `BadWindow` for an unknown window and `RedisUnavailable` when Redis or the broker
    does not answer. One accepted request per store per cooldown, and none while a run is active.
    """
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
    with log_context(store=store.pk):
        try:
            with transaction.atomic():
                run, gate = _open_run(
                    store=store, window=window, source=source, user=user, force=force
                )
                if run is not None:
                    audit_request(
                        **audit, accepted=True, retry_after=gate.retry_after, sync_run=run
                    )
                    transaction.on_commit(lambda: enqueue.run_dispatch(run.pk), robust=False)
        except RedisUnavailable:
            audit_request(
                **audit, accepted=False, refused_reason=ResyncRequest.RefusedReason.UNAVAILABLE
            )
            logger.warning("bulk resync refused: Redis or broker unavailable")
            raise
        if run is None:
            audit_request(
                **audit, accepted=False, refused_reason=gate.reason, retry_after=gate.retry_after
            )
            return ResyncVerdict(False, gate.retry_after, gate.reason)
        logger.info(
            "bulk resync accepted: run %s, window %s, %s shipments", run.pk, window, run.total
        )
        return ResyncVerdict(True, gate.retry_after, run=run)


def _open_run(
    *, store: Store, window: str, source: str, user: Any, force: bool
) -> tuple[SyncRun | None, cooldowns.Gate]:
    """Inside the caller's transaction: create the run and take the store's bulk cooldown and
    in-progress lock, or refuse (a run in progress, the cooldown; the run is rolled back)."""
    if not force and SyncRun.objects.filter(store=store, state__in=ACTIVE_RUN_STATES).exists():
        retry_after = cooldowns.bulk_retry_after(store.pk) or 60
        return None, cooldowns.Gate(False, retry_after, cooldowns.REASON_IN_PROGRESS)
    now = timezone.now()
    total = store_window_queryset(store=store, window=window, now=now).count()
    run = SyncRun.objects.create(
        store=store, window=window, source=source, requested_by=user, total=total
    )
    gate = cooldowns.acquire_bulk(store.pk, run_id=run.pk, force=force)
    if gate.accepted and not force:
        left = _bulk_cooldown_left(store=store, now=now)
        if left > 0:
            logger.warning("bulk cooldown missing in Redis: restored from audit")
            gate = cooldowns.restore_bulk(store.pk, run_id=run.pk, seconds=left)
    if not gate.accepted:
        transaction.set_rollback(True)
        return None, gate
    return run, gate


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


def store_clear_bulk_cooldown(*, store: Store, user: Any = None) -> bool:
    """Ops: let the store start a bulk resync again now (audited)."""
    cleared = cooldowns.clear_bulk(store.pk)
    audit_request(
        store=store,
        kind=ResyncRequest.Kind.CLEAR_COOLDOWN,
        source=RequestSource.OPS,
        user=user,
        accepted=True,
    )
    return cleared
