"""Recording the e-mails that news calls for, inside the apply service's transaction.

`shopper_emails_record_changes` receives `shipments.signals.shipments_changed`. For the whole list
of changes it makes at most two queries (one read of the orders, stores and unsubscribes
involved, one insert that skips rows already there), and none when no change can mail anybody
(the usual bulk chunk). The send tasks are published once the transaction commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from shipments.models import Shipment
from shipments.signals import ShipmentChange

from ..models import (
    DEFAULT_STATUSES,
    NOTIFIABLE_STATUSES,
    ShopperEmail,
    shopper_email_id,
)
from . import publishing

logger = logging.getLogger(__name__)

_NOTIFIABLE = frozenset(str(status) for status in NOTIFIABLE_STATUSES)
_DEFAULTS = [str(status) for status in DEFAULT_STATUSES]


def horizon(now: dt.datetime) -> dt.datetime:
    """Shipments shipped before this never trigger an e-mail (importing history mails nobody)."""
    return now - dt.timedelta(days=settings.NOTIFY_HORIZON_DAYS)


def candidates(changes: list[ShipmentChange]) -> list[ShipmentChange]:
    """Changes that may call for an e-mail, decided without the database: the shipment entered
    a status somebody could be told about, and it shipped within the horizon."""
    return [
        change
        for change in changes
        if change.status_changed
        and change.status in _NOTIFIABLE
        and change.shipped_at is not None
        and change.shipped_at >= horizon(change.at)
    ]


def shopper_emails_record(*, changes: list[ShipmentChange]) -> list[str]:
    """Write one `ShopperEmail` per shipment and status the store tells shoppers about (never a
    second one: the unique constraint and `ignore_conflicts`), and publish their sends after
    commit. Returns the ids of the e-mails asked for (rows that already existed included)."""
    wanted = candidates(changes)
    if not wanted:
        return []
    rows = Shipment.objects.filter(pk__in=[c.shipment_id for c in wanted]).values_list(
        "pk",
        "order__customer_email",
        "order__shopper_unsubscribe__created_at",
        "store__notification_settings__enabled",
        "store__notification_settings__statuses",
    )
    facts: dict[int, tuple[Any, ...]] = {row[0]: row[1:] for row in rows}
    emails: list[ShopperEmail] = []
    for change in wanted:
        if change.shipment_id not in facts:
            continue
        email, unsubscribed_at, enabled, statuses = facts[change.shipment_id]
        if enabled is None:  # no settings row: the defaults
            enabled, statuses = True, _DEFAULTS
        if not enabled or change.status not in (statuses or ()):
            continue
        if unsubscribed_at is not None or not email:
            continue
        emails.append(
            ShopperEmail(
                id=shopper_email_id(change.shipment_id, change.status),
                store_id=change.store_id,
                shipment_id=change.shipment_id,
                order_id=change.order_id,
                status=change.status,
                to_email=email,
            )
        )
    if not emails:
        return []
    ShopperEmail.objects.bulk_create(emails, ignore_conflicts=True, batch_size=500)
    ids = [str(email.pk) for email in emails]
    transaction.on_commit(lambda: publishing.publish_sends(ids), robust=True)
    return ids


def shopper_emails_record_changes(
    sender: Any, changes: list[ShipmentChange], **kwargs: Any
) -> None:
    """The `shipments_changed` receiver."""
    shopper_emails_record(changes=changes)
