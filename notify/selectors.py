"""Reads of shopper e-mails (None for "not found")."""

from __future__ import annotations

from shipments.models import Order, Store

from .content import unsubscribe_order_id
from .models import DEFAULT_STATUSES, NotificationSettings


def order_for_unsubscribe_token(*, token: str) -> Order | None:
    """The order a signed unsubscribe token names; None for a bad, forged or stale token."""
    order_id = unsubscribe_order_id(token)
    if order_id is None:
        return None
    return Order.objects.select_related("store").filter(pk=order_id).first()


def store_preferences(*, store: Store) -> tuple[bool, list[str]]:
    """(enabled, statuses) of the store; the defaults when it never saved any."""
    row = NotificationSettings.objects.filter(store=store).first()
    if row is None:
        return True, [str(status) for status in DEFAULT_STATUSES]
    return row.enabled, list(row.statuses)
