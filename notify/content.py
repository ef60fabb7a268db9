"""What a shopper e-mail says: subject, text and HTML from `templates/notify/email/`, and its
headers (a Message-ID fixed per row, the RFC 8058 one-click unsubscribe)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from shipments.models import Shipment, ShipmentStatus, Store, TrackingEvent

from .models import ShopperEmail

UNSUBSCRIBE_SALT = "notify.unsubscribe"

SUBJECTS = {
    ShipmentStatus.INFO_RECEIVED: _("Your order %(order)s is about to ship"),
    ShipmentStatus.IN_TRANSIT: _("Your order %(order)s is on its way"),
    ShipmentStatus.OUT_FOR_DELIVERY: _("Your order %(order)s is out for delivery"),
    ShipmentStatus.FAILED_ATTEMPT: _("Delivery of your order %(order)s was attempted"),
    ShipmentStatus.AVAILABLE_FOR_PICKUP: _("Your order %(order)s is ready for pickup"),
    ShipmentStatus.DELIVERED: _("Your order %(order)s was delivered"),
    ShipmentStatus.EXCEPTION: _("There is a problem with the delivery of your order %(order)s"),
}


def unsubscribe_token(order_id: int) -> str:
    return signing.dumps(order_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_order_id(token: str) -> int | None:
    """The order a token was made for; None for a bad or forged one."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_url(order_id: int) -> str:
    return absolute(reverse("notify:unsubscribe", args=[unsubscribe_token(order_id)]))


def message_id(email: ShopperEmail) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "resync.invalid"
    return f"<shopper-email.{email.pk}@{domain}>"


@dataclass(frozen=True)
class Sample:
    """What the merchant's test e-mail shows instead of a real parcel."""

    order_number: str = "#1001"
    tracking_number: str = "TEST000000000"
    carrier_name: str = "DHL"
    estimated_delivery: dt.datetime | None = None


def _when(value: dt.datetime | None, store: Store) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, store.tz), "DATETIME_FORMAT")


def _day(value: dt.datetime | None, store: Store) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, store.tz), "DATE_FORMAT")


def email_context(email: ShopperEmail) -> dict[str, Any]:
    store = email.store
    shipment: Shipment | None = email.shipment
    event: TrackingEvent | None = None
    if shipment is not None:
        event = shipment.events.order_by("-occurred_at", "-pk").first()
        order_number = email.order.order_number if email.order else ""
        tracking_url = absolute(shipment.get_tracking_url())
        parcel: Any = shipment
        carrier_name = shipment.carrier_name or ""
    else:  # the merchant's test e-mail
        parcel = Sample(estimated_delivery=timezone.now() + dt.timedelta(days=2))
        order_number, carrier_name = parcel.order_number, parcel.carrier_name
        tracking_url = absolute(reverse("tracking:lookup"))
    return {
        "store": store,
        "brand_name": store.brand_name,
        "accent": store.accent_color,
        "logo_url": store.logo_url,
        "status": email.status,
        "status_label": ShipmentStatus(email.status).label,
        "order_number": order_number,
        "tracking_number": parcel.tracking_number,
        "carrier_name": carrier_name,
        "estimated_delivery": _day(parcel.estimated_delivery, store),
        "event": event,
        "event_time": _when(event.occurred_at, store) if event else "",
        "tracking_url": tracking_url,
        "unsubscribe_url": unsubscribe_url(email.order_id) if email.order_id else "",
        "is_test": email.is_test,
    }


class ShopperMessage(EmailMultiAlternatives):
    """Headers are not folded below RFC 5322's hard limit (998): a folded `List-Unsubscribe`
    (its URL alone is longer than 78 characters) reads back with a leading space in some
    clients' parsers."""

    def message(self) -> Any:
        msg = super().message()
        msg.policy = msg.policy.clone(max_line_length=998)
        return msg


def build_message(email: ShopperEmail) -> EmailMultiAlternatives:
    """The whole e-mail, in the store's default language (shoppers have no account to say
    theirs; the store knows whom it sells to)."""
    language = getattr(email.store, "default_language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = email_context(email)
        subject = str(SUBJECTS[ShipmentStatus(email.status)]) % {"order": context["order_number"]}
        if email.is_test:
            subject = str(_("[Test] %(subject)s")) % {"subject": subject}
        text = render_to_string(f"notify/email/{email.status}.txt", context)
        html = render_to_string(f"notify/email/{email.status}.html", context)
    headers = {"Message-ID": message_id(email)}
    if context["unsubscribe_url"]:
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    sender = formataddr((email.store.brand_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    message = ShopperMessage(
        subject=subject, body=text, from_email=sender, to=[email.to_email], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message
