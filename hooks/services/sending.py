"""Sending deliveries: claim, POST outside any transaction, record the attempt.

- A delivery is claimed by one conditional UPDATE (due, pending, unclaimed or with an expired
  claim, its endpoint active, and no earlier pending delivery for the same shipment and
  endpoint): a redelivered task message, or the dispatcher finding it too, changes nothing.
- Failures (non-2xx, timeout, refused address) are retried with exponential backoff and jitter,
  the first after `WEBHOOK_RETRY_BASE_SECONDS`, until `RETRY_FOR` after the change: then the
  delivery has failed. A retry is a row's `next_attempt_at`, which the periodic dispatcher
  picks up (no message waits in a worker for an hour). An endpoint failing for
  `DISABLE_AFTER` with no success is turned off.
- When a delivery settles, the next one for the same shipment and endpoint is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from shipments.models import Store
from shipments.redis_client import RedisUnavailable
from shipments.services import enqueue

from ..models import (
    AttemptState,
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from . import http
from .directory import endpoint_stores_refresh
from .recording import publish_sends

logger = logging.getLogger(__name__)

ATTEMPT_SEND = "hooks.tasks.webhook_attempt_send"
RETRY_FOR = dt.timedelta(hours=24)
DISABLE_AFTER = dt.timedelta(days=3)
MAX_RETRY_DELAY = dt.timedelta(hours=1)
# A claim outlives its sender only when the sender died, and then the delivery is due again.
MIN_CLAIM = dt.timedelta(seconds=120)
DUE_BATCH = 1000


def claim_for() -> dt.timedelta:
    """How long a claim holds: at least 2 minutes, and always well past what one POST may take
    with the configured timeouts (connect, then read for the headers and the snippet), so a
    slow receiver is never sent the same delivery twice at once."""
    one_post = settings.WEBHOOK_CONNECT_TIMEOUT + 2 * settings.WEBHOOK_READ_TIMEOUT
    return max(MIN_CLAIM, dt.timedelta(seconds=2 * one_post + 30))


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Backoff after failed attempt number `attempt` (1, 2, …): base × 2^(attempt-1), capped,
    plus up to a quarter more at random so that many failing deliveries do not retry in step."""
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    cap = MAX_RETRY_DELAY.total_seconds()
    delay = min(cap, base * 2 ** min(attempt - 1, 30))
    return dt.timedelta(seconds=delay + (rng or random).uniform(0, delay / 4))


def _earlier_pending() -> Exists:
    return Exists(
        WebhookDelivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"),
            shipment_id=OuterRef("shipment_id"),
            state=DeliveryState.PENDING,
            id__lt=OuterRef("id"),
        )
    )


def _sendable(now: dt.datetime) -> Q:
    return (
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        & ~Q(_earlier_pending())
    )


def deliveries_due(*, now: dt.datetime | None = None) -> list[int]:
    """Deliveries to send now (first of their shipment's queue, unclaimed), oldest first."""
    now = now or timezone.now()
    rows = WebhookDelivery.objects.filter(_sendable(now)).order_by("next_attempt_at", "id")
    return list(rows.values_list("id", flat=True)[:DUE_BATCH])


def webhook_deliveries_dispatch_due(*, now: dt.datetime | None = None) -> int:
    """The periodic safety net: publish every due delivery and every manual attempt left queued
    (a lost message, a dead worker). Returns how many were published."""
    now = now or timezone.now()
    endpoint_stores_refresh()
    due = deliveries_due(now=now)
    publish_sends(due)
    # A manual attempt whose sender died mid-way is queued again (a POST takes seconds).
    WebhookAttempt.objects.filter(
        state=AttemptState.SENDING, created_at__lt=now - dt.timedelta(minutes=10)
    ).update(state=AttemptState.QUEUED)
    stale = list(
        WebhookAttempt.objects.filter(
            state=AttemptState.QUEUED, created_at__lt=now - dt.timedelta(minutes=1)
        ).values_list("id", flat=True)[:DUE_BATCH]
    )
    _publish_attempts(stale)
    return len(due) + len(stale)


def webhook_delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> bool:
    """One scheduled attempt of a delivery, if it is still due and ours to send."""
    now = now or timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(_sendable(now), pk=delivery_id).update(
            claimed_until=now + claim_for()
        )
        == 1
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return False
    outcome = _post(delivery)
    _record(delivery_id=delivery_id, outcome=outcome, now=now, attempt_id=None)
    return True


def webhook_attempt_send(*, attempt_id: int, now: dt.datetime | None = None) -> bool:
    """A redelivery the merchant asked for: once, now, whatever the delivery's state."""
    now = now or timezone.now()
    claimed = WebhookAttempt.objects.filter(pk=attempt_id, state=AttemptState.QUEUED).update(
        state=AttemptState.SENDING
    )
    if not claimed:
        return False
    attempt = (
        WebhookAttempt.objects.select_related("delivery__endpoint").filter(pk=attempt_id).first()
    )
    if attempt is None:
        return False
    outcome = _post(attempt.delivery)
    _record(delivery_id=attempt.delivery_id, outcome=outcome, now=now, attempt_id=attempt_id)
    return True


def webhook_delivery_redeliver(
    *, store: Store, endpoint_id: int, delivery_id: int
) -> WebhookAttempt | None:
    """Queue one more attempt of a delivery of the store's (None: not the store's)."""
    delivery = WebhookDelivery.objects.filter(
        pk=delivery_id, endpoint_id=endpoint_id, endpoint__store=store
    ).first()
    if delivery is None:
        return None
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, manual=True, state=AttemptState.QUEUED
        )
        transaction.on_commit(lambda: _publish_attempts([attempt.pk]))
    return attempt


def _publish_attempts(attempt_ids: list[int]) -> None:
    try:
        for pk in attempt_ids:
            enqueue.publish(ATTEMPT_SEND, args=(pk,), queue=enqueue.INTERACTIVE)
    except RedisUnavailable:
        logger.warning("manual webhook attempts left for the dispatcher: broker unavailable")


def _post(delivery: WebhookDelivery) -> http.Outcome:
    endpoint = delivery.endpoint
    return http.post(
        url=endpoint.url,
        secret=endpoint.secret,
        body=delivery.body.encode(),
        delivery_id=str(delivery.uid),
        event=delivery.event,
    )


def _record(
    *, delivery_id: int, outcome: http.Outcome, now: dt.datetime, attempt_id: int | None
) -> None:
    """Log the attempt and move the delivery and its endpoint on, in one short transaction."""
    settled = False
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:  # its endpoint or shipment was deleted meanwhile
            return
        number = delivery.attempts + 1
        fields = {
            "number": number,
            "state": AttemptState.DONE,
            "sent_at": now,
            "status_code": outcome.status_code,
            "duration_ms": outcome.duration_ms,
            "error": outcome.error[:300],
            "response_snippet": outcome.snippet[:500],
        }
        if attempt_id is None:
            WebhookAttempt.objects.create(delivery=delivery, created_at=now, **fields)
        else:
            WebhookAttempt.objects.filter(pk=attempt_id).update(**fields)
        delivery.attempts = number
        if attempt_id is None:
            delivery.claimed_until = None
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if outcome.ok:
            endpoints.update(failing_since=None)
            if delivery.state != DeliveryState.DELIVERED:
                settled = delivery.state == DeliveryState.PENDING
                delivery.state, delivery.finished_at = DeliveryState.DELIVERED, now
        else:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now)
            if attempt_id is None and delivery.state == DeliveryState.PENDING:
                if now >= delivery.created_at + RETRY_FOR:
                    delivery.state, delivery.finished_at = DeliveryState.FAILED, now
                    settled = True
                else:
                    delivery.next_attempt_at = min(
                        now + retry_delay(number), delivery.created_at + RETRY_FOR
                    )
        delivery.save()
        if not outcome.ok:
            _disable_if_failing_too_long(endpoint_id=delivery.endpoint_id, now=now)
        if settled:
            follower = _next_in_queue(delivery)
            if follower is not None:
                transaction.on_commit(lambda: publish_sends([follower]))
    if not outcome.ok:
        logger.info(
            "webhook delivery %s attempt %s failed: %s %s",
            delivery_id,
            number,
            outcome.status_code,
            outcome.error,
        )


def _next_in_queue(delivery: WebhookDelivery) -> int | None:
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            shipment_id=delivery.shipment_id,
            state=DeliveryState.PENDING,
        )
        .exclude(pk=delivery.pk)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def _disable_if_failing_too_long(*, endpoint_id: int, now: dt.datetime) -> None:
    """An endpoint that has failed for `DISABLE_AFTER` without one success is turned off (the
    Shipment tab says so) and what it still had to deliver is given up."""
    turned_off = WebhookEndpoint.objects.filter(
        pk=endpoint_id, is_active=True, failing_since__lte=now - DISABLE_AFTER
    ).update(is_active=False, disabled_at=now)
    if turned_off:
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED, finished_at=now, claimed_until=None
        )
        logger.warning("webhook endpoint %s turned off after failing for 3 days", endpoint_id)
