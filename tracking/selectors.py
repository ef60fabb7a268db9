"""Reads for the public tracking pages: the order lookup, and what a token may show.

Everything here starts from one shipment (its token) or one order number + e-mail, and only
ever reaches that shipment's own order and store. Selectors only read: "not found" is None
(the views answer 404), and shaping for the page and its JSON is in `presenters`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower, Upper

from shipments.cooldowns import shipment_retry_after
from shipments.delivery import DeliveryRule, rule_from_fields
from shipments.models import Order, ResyncJob, Shipment, Store, TrackingEvent
from shipments.redis_client import RedisUnavailable

# Tokens are `secrets.token_urlsafe(24)`; anything else is not worth a query.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_EVENTS = 200


def _shown() -> QuerySet[Shipment]:
    """The shipments a shopper may see: not those of a fulfillment the shop cancelled."""
    return Shipment.objects.filter(cancelled_at__isnull=True)


# --- Lookup ---------------------------------------------------------------------------------------


def order_number_key(value: str) -> str:
    """What the shopper typed, as we compare it: no spaces, no leading '#', lower case (as the
    database's LOWER, which the lookup index holds)."""
    return re.sub(r"\s+", "", value or "").lstrip("#").lower()


@dataclass(frozen=True)
class OrderMatch:
    token: str | None  # the order's first shipment; None while nothing has shipped
    store_name: str
    order_number: str
    # For an order not shipped yet: the store's estimate counts from when it was placed.
    placed_at: dt.datetime | None = None
    delivery_rule: DeliveryRule | None = None


def store_for_lookup(slug: str) -> Store | None:
    """The store a lookup is narrowed to and branded for (`?store=<slug>`), or None."""
    if not slug:
        return None
    return (
        Store.objects.only(
            "name", "slug", "display_name", "accent_color", "logo_url", "default_language"
        )
        .filter(slug=slug)
        .first()
    )


# The store's rule as `rule_from_fields` takes it (store field → argument).
RULE_FIELDS = (
    "delivery_transit_days",
    "delivery_transit_by_carrier",
    "delivery_processing_days",
    "delivery_business_days",
    "delivery_cutoff",
    "time_zone",
)
RULE_ARGS = (
    "transit_days",
    "transit_by_carrier",
    "processing_days",
    "business_days",
    "cutoff",
    "time_zone",
)


def order_lookup(*, order_number: str, email: str, store: Store | None = None) -> OrderMatch | None:
    """The order with this number and customer e-mail (both case-insensitive) in any store, or
    in `store` only; or None.

    One indexed query (`order_lookup` on LOWER(order_number), LOWER(customer_email)) whether or
    not anything matches: a missing order and a wrong e-mail do the same work. Two stores with
    the same number and the same e-mail: the newest order (a store's own link or `?store=`
    reaches the other).
    """
    key = order_number_key(order_number)
    typed_email = (email or "").strip().lower()
    if not key or not typed_email:
        return None
    first_shipment = (
        _shown()
        .filter(order=OuterRef("pk"), store=OuterRef("store"))
        .order_by("shipped_at", "pk")
        .values("public_token")[:1]
    )
    # Stored numbers may or may not carry the '#'; both spellings match.
    candidates = Order.objects.alias(
        number_key=Lower("order_number"), email_key=Lower("customer_email")
    ).filter(number_key__in=[key, f"#{key}"], email_key=typed_email)
    if store is not None:
        candidates = candidates.filter(store_id=store.pk)
    row = (
        candidates.annotate(token=Subquery(first_shipment))
        .order_by("-placed_at", "-pk")
        .values_list(
            "token",
            "store__display_name",
            "store__name",
            "order_number",
            "placed_at",
            *(f"store__{field}" for field in RULE_FIELDS),
        )
        .first()
    )
    if row is None:
        return None
    token, display_name, name, number, placed_at, *rule = row
    return OrderMatch(
        token=token,
        store_name=display_name or name,
        order_number=number,
        placed_at=placed_at,
        delivery_rule=rule_from_fields(**dict(zip(RULE_ARGS, rule, strict=True))),
    )


def tracking_number_key(value: str) -> str:
    """A tracking number as the lookup compares it: no spaces, upper case (as the database's
    UPPER, which the `shipment_number_upper` index holds; stored numbers carry no spaces)."""
    return "".join((value or "").split()).upper()


def shipment_for_tracking_number(
    *, tracking_number: str, store: Store | None = None
) -> Shipment | None:
    """The shipment with this tracking number (case and spaces aside) in any store, or in
    `store` only; or None. Several stores (or carriers) with the same number: the newest
    shipment (latest `shipped_at`). One indexed query, with the store; the order is not read.
    """
    key = tracking_number_key(tracking_number)
    if not key or len(key) > 64:
        return None
    candidates = (
        _shown()
        .select_related("store")
        .only(*PARCEL_FIELDS)
        .alias(number_key=Upper("tracking_number"))
        .filter(number_key=key)
    )
    if store is not None:
        candidates = candidates.filter(store_id=store.pk)
    return candidates.order_by("-shipped_at", "-pk").first()


# --- The tracking page ----------------------------------------------------------------------------


def valid_token(token: str) -> bool:
    return bool(_TOKEN.match(token or ""))


def shipment_for_token(token: str) -> Shipment | None:
    """The shipment behind a public token (with its order and store), or None."""
    if not valid_token(token):
        return None
    return _shown().select_related("order", "store").filter(public_token=token).first()


def order_shipments(shipment: Shipment) -> QuerySet[Shipment]:
    """The shipments of the same order (and store), first shipped first."""
    return (
        _shown()
        .filter(order_id=shipment.order_id, store_id=shipment.store_id)
        .order_by("shipped_at", "pk")
    )


# What the tracking page reads of each shipment of the order, its order and its store. Any
# other field would load on access with a query of its own (tests count the page's queries).
PAGE_FIELDS = (
    "store_id",
    "order_id",
    "carrier",
    "tracking_number",
    "status",
    "sub_status",
    "carrier_status_text",
    "actual_carrier_code",
    "actual_carrier_name",
    "actual_carrier_url",
    "estimated_delivery",
    "last_event_at",
    "last_synced_at",
    "last_success_at",
    "last_sync_outcome",
    "public_token",
    "shipped_at",
    "order__order_number",
    "order__customer_email",
    "store__name",
    "store__display_name",
    "store__logo_url",
    "store__time_zone",
    "store__default_language",
    # The store's delivery rule (the estimate when the carrier gives no date).
    *(f"store__{field}" for field in RULE_FIELDS),
)

# What a lookup by tracking number reads: the page's fields less the order's (never shown there)
# plus the store's slug (its stylesheet's URL).
PARCEL_FIELDS = (
    *(field for field in PAGE_FIELDS if not field.startswith("order__")),
    "store__slug",
)


def shipment_with_siblings(token: str) -> tuple[Shipment, list[Shipment]] | None:
    """The shipment behind a public token and every shipment of its order (itself included,
    first shipped first), in one query; or None. Only the same store's shipments count."""
    if not valid_token(token):
        return None
    rows = list(
        _shown()
        .select_related("order", "store")
        .only(*PAGE_FIELDS)
        .filter(order__shipments__public_token=token)
        .order_by("shipped_at", "pk")
    )
    shipment = next((row for row in rows if row.public_token == token), None)
    if shipment is None:
        return None
    return shipment, [row for row in rows if row.store_id == shipment.store_id]


def shipment_event_rows(shipment: Shipment) -> list[tuple]:
    """The shipment's scans, newest first, as plain rows: (occurred_at, status, description,
    location, local_time_only) — nothing but what the page shows."""
    return list(
        TrackingEvent.objects.filter(shipment_id=shipment.pk)
        .order_by("-occurred_at", "-pk")
        .values_list("occurred_at", "status", "description", "location", "local_time_only")[
            :MAX_EVENTS
        ]
    )


def shipment_wait(shipment: Shipment) -> int:
    """Seconds until the shared cooldown lets this shipment resync (0 when Redis is down: the
    page still renders, and the resync itself will say it is unavailable)."""
    try:
        return shipment_retry_after(shipment.store_id, shipment.pk)
    except RedisUnavailable:
        return 0


def latest_job(shipment: Shipment | int) -> ResyncJob | None:
    """The shipment's latest resync (from any place): a reload during the cooldown, or a
    browser without JavaScript coming back from its POST, still sees how it went."""
    return ResyncJob.objects.filter(shipment=shipment).order_by("-created_at").first()


def resync_job_for_shipment(*, shipment: Shipment, job_id: str) -> ResyncJob | None:
    """A resync job of this shipment (a job of another shipment is None)."""
    return ResyncJob.objects.filter(pk=job_id, shipment=shipment).first()
