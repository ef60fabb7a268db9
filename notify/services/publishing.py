"""Publishing the send task, by name (nothing imports `notify.tasks`)."""

from __future__ import annotations

import logging

from shipments.redis_client import RedisUnavailable
from shipments.services import enqueue

logger = logging.getLogger(__name__)

SHOPPER_EMAIL_SEND = "notify.tasks.shopper_email_send"
SHOPPER_EMAILS_RECONCILE = "notify.tasks.shopper_emails_reconcile"


def publish_send(
    email_id: str, *, countdown: float | None = None, queue: str = enqueue.BULK
) -> None:
    enqueue.publish(SHOPPER_EMAIL_SEND, args=(email_id,), queue=queue, countdown=countdown)


def publish_sends(email_ids: list[str]) -> None:
    """After commit: a broker that does not answer loses nothing, the row stays `pending` and
    the reconciler publishes it again."""
    for email_id in email_ids:
        try:
            publish_send(email_id)
        except RedisUnavailable:
            logger.warning("shopper e-mail %s not published (broker down); reconciler", email_id)
            return
