"""Carrier push in (17TRACK and AfterShip webhooks): recorded once, then applied on a worker.

Receiving is fast: the view checks the signature on the raw body, then `carrier_push_record`
writes one row, unique per (provider, SHA-256 of the body), so a redelivery — even two copies
at once — finds the row and changes nothing; a number no live shipment has is answered and not
kept. Applying (`carrier_push_apply`) parses the stored body with the adapters' own parse
functions (`shipments.carriers.push`) and writes through `shipments.services.shipments_apply_push`,
the pull's writer: same events table, same statuses, same notifications.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shipments import services as shipment_services
from shipments.carriers import push as carrier_push
from shipments.models import Shipment
from shipments.services import enqueue

from ..models import CarrierPush

logger = logging.getLogger("connect.services")

CARRIER_PUSH_APPLY = "connect.tasks.carrier_push_apply"
CARRIER_PUSHES_RECONCILE = "connect.tasks.carrier_pushes_reconcile"
# Applying more times than this (a body that keeps failing) marks the push failed.
MAX_ATTEMPTS = 5
# A pending push this old is published again by the reconciler.
RECONCILE_AFTER = dt.timedelta(seconds=60)


def push_secrets(provider: str) -> list[str]:
    """What signs a provider's pushes: 17TRACK its API key (`SEVENTEENTRACK_API_KEY`, the
    carrier credential), AfterShip the webhook secret. Empty values are left out."""
    if provider == carrier_push.SEVENTEENTRACK:
        keys = [
            getattr(settings, "SEVENTEENTRACK_API_KEY", ""),
            (settings.CARRIER_CREDENTIALS.get(provider) or {}).get("api_key", ""),
        ]
    else:
        keys = [settings.AFTERSHIP_WEBHOOK_SECRET]
    return list(dict.fromkeys(k for k in keys if k))


def push_verified(provider: str, body: bytes, header: str | None) -> bool:
    """The signature header matches the raw body under one of the provider's keys (each
    compared in constant time; no key configured: never)."""
    matches = [
        carrier_push.signature_matches(provider, body, header, secret)
        for secret in push_secrets(provider)
    ]
    return any(matches)


@dataclass(frozen=True)
class PushRecorded:
    push: CarrierPush | None
    known: bool  # a live shipment has this number (else nothing was kept)
    duplicate: bool = False


def carrier_push_record(*, provider: str, body: bytes, payload: Any) -> PushRecorded:
    """Record a verified push before answering it (200 means the work is durable) and publish
    its application on commit. The same body again, or an unknown number, records nothing."""
    number = carrier_push.push_number(provider, payload)
    if (
        not number
        or not Shipment.objects.filter(
            carrier=provider, tracking_number=number, cancelled_at__isnull=True
        ).exists()
    ):
        logger.info("%s push for an unknown number %r: nothing to do", provider, number[:64])
        return PushRecorded(None, known=False)
    event = payload.get("event") if isinstance(payload, dict) else ""
    try:
        with transaction.atomic():
            push = CarrierPush.objects.create(
                provider=provider,
                tracking_number=number[:64],
                event=str(event or "")[:64],
                dedupe_key=hashlib.sha256(body).hexdigest(),
                body=payload,
            )
            pk = push.pk
            transaction.on_commit(lambda: publish_apply(pk), robust=True)
    except IntegrityError:
        logger.info("%s push for %s seen before: nothing changes", provider, number[:64])
        return PushRecorded(None, known=True, duplicate=True)
    return PushRecorded(push, known=True)


def publish_apply(push_pk: int) -> None:
    enqueue.publish(CARRIER_PUSH_APPLY, args=(push_pk,), queue=enqueue.BULK)


def _last_source_time(push: CarrierPush) -> dt.datetime | None:
    """The newest state of this number already applied from a push (to refuse older ones)."""
    return (
        CarrierPush.objects.filter(
            provider=push.provider,
            tracking_number=push.tracking_number,
            state=CarrierPush.State.APPLIED,
        )
        .exclude(pk=push.pk)
        .aggregate(latest=Max("source_time"))["latest"]
    )


def _apply(push: CarrierPush, now: dt.datetime) -> str:
    parsed = carrier_push.parse(push.provider, push.body)
    if parsed.kind == carrier_push.STOPPED:
        shipment_services.shipments_push_stopped(
            carrier=push.provider, tracking_number=parsed.tracking_number, now=now
        )
        return CarrierPush.State.APPLIED
    if parsed.kind != carrier_push.UPDATED or parsed.result is None:
        return CarrierPush.State.IGNORED
    outcome = shipment_services.shipments_apply_push(
        carrier=push.provider,
        result=parsed.result,
        now=now,
        source_time=parsed.source_time,
        last_source_time=_last_source_time(push),
    )
    push.source_time = parsed.source_time
    if not outcome.matched:
        return CarrierPush.State.IGNORED
    return CarrierPush.State.APPLIED if outcome.applied else CarrierPush.State.STALE


def carrier_push_apply(*, push_pk: int) -> str:
    """Apply one recorded push (on a worker). Safe to run twice: only a pending push is applied,
    under its row lock. Returns the push's state afterwards."""
    now = timezone.now()
    try:
        with transaction.atomic():
            push = CarrierPush.objects.select_for_update().filter(pk=push_pk).first()
            if push is None or push.state != CarrierPush.State.PENDING:
                return push.state if push else "missing"
            push.attempts += 1
            try:
                with transaction.atomic():
                    push.state = _apply(push, now)
                push.applied_at = now
                push.error = ""
            except carrier_push.BadPush as exc:
                push.state = CarrierPush.State.FAILED
                push.error = str(exc)[:500]
                logger.warning("carrier push %s not applied: %s", push.pk, exc)
            push.save(update_fields=["state", "applied_at", "error", "attempts", "source_time"])
            return push.state
    except Exception:
        logger.exception("carrier push %s: applying failed; the reconciler retries", push_pk)
        _count_failed_attempt(push_pk)
        raise


def _count_failed_attempt(push_pk: int) -> None:
    """An unexpected error rolled the attempt back: count it, and give up after MAX_ATTEMPTS."""
    with transaction.atomic():
        push = CarrierPush.objects.select_for_update().filter(pk=push_pk).first()
        if push is None or push.state != CarrierPush.State.PENDING:
            return
        push.attempts += 1
        if push.attempts >= MAX_ATTEMPTS:
            push.state = CarrierPush.State.FAILED
            push.error = "gave up after repeated errors (see the worker log)"
        push.save(update_fields=["attempts", "state", "error"])


def carrier_pushes_pending(*, now: dt.datetime) -> list[int]:
    """Recorded pushes still pending a minute after they arrived (their message was lost, or
    applying failed): to publish again. Applying twice is harmless."""
    return list(
        CarrierPush.objects.filter(
            state=CarrierPush.State.PENDING, received_at__lt=now - RECONCILE_AFTER
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )


def carrier_pushes_purge(*, now: dt.datetime) -> int:
    """Forget settled pushes older than CARRIER_PUSH_RETENTION_DAYS."""
    cutoff = now - dt.timedelta(days=settings.CARRIER_PUSH_RETENTION_DAYS)
    deleted, _ = (
        CarrierPush.objects.filter(received_at__lt=cutoff)
        .exclude(state=CarrierPush.State.PENDING)
        .delete()
    )
    return deleted
