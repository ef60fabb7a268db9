"""The store's choices about shopper e-mails, the merchant's test e-mail, and unsubscribing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shipments.models import Order, ShipmentStatus, Store
from shipments.services.enqueue import INTERACTIVE

from ..models import (
    NOTIFIABLE_STATUSES,
    NotificationSettings,
    OrderUnsubscribe,
    ShopperEmail,
)
from ..selectors import store_preferences  # noqa: F401  (re-exported)
from . import publishing


def store_preferences_set(*, store: Store, enabled: Any, statuses: Any) -> NotificationSettings:
    """Save the store's choices; `ValidationError` for a non-boolean switch or unknown statuses."""
    errors: dict[str, list[str]] = {}
    if not isinstance(enabled, bool):
        errors["enabled"] = [_("Say true or false.")]
    if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
        errors["statuses"] = [_("Give a list of statuses.")]
    else:
        unknown = sorted(set(statuses) - {str(s) for s in NOTIFIABLE_STATUSES})
        if unknown:
            errors["statuses"] = [
                _("Unknown statuses: %(unknown)s. Choose among: %(known)s.")
                % {
                    "unknown": ", ".join(unknown),
                    "known": ", ".join(str(s) for s in NOTIFIABLE_STATUSES),
                }
            ]
    if errors:
        raise ValidationError(errors)
    # Kept in the catalogue's order, each once.
    chosen = [str(s) for s in NOTIFIABLE_STATUSES if str(s) in statuses]
    row, _created = NotificationSettings.objects.update_or_create(
        store=store, defaults={"enabled": enabled, "statuses": chosen}
    )
    return row


def store_test_email_send(*, store: Store, to_email: str) -> ShopperEmail:
    """The e-mail shoppers get for "in transit", with a sample parcel, to the merchant; sent by
    the same task and templates. `ValidationError` when there is no address to send it to."""
    if not to_email:
        raise ValidationError(
            _("Your account has no e-mail address: add one to receive a test e-mail.")
        )
    with transaction.atomic():
        email = ShopperEmail.objects.create(
            store=store, status=ShipmentStatus.IN_TRANSIT, to_email=to_email, is_test=True
        )
        email_id = str(email.pk)
        transaction.on_commit(lambda: publishing.publish_send(email_id, queue=INTERACTIVE))
    return email


def order_unsubscribe(*, order: Order) -> bool:
    """No more e-mails for this order; the ones not sent yet are cancelled. True the first time."""
    with transaction.atomic():
        _row, created = OrderUnsubscribe.objects.get_or_create(order=order)
        ShopperEmail.objects.filter(order=order, state=ShopperEmail.State.PENDING).update(
            state=ShopperEmail.State.CANCELLED, last_error="unsubscribed"
        )
    return created
