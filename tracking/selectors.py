"""Reads for the public tracking pages: the order lookup, and what a token may show.

Everything here starts from one shipment (its token) or one order number + e-mail, and only
ever reaches that shipment's own order and store.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shipments.cooldowns import shipment_retry_after
from shipments.models import Order, ResyncJob, Shipment, ShipmentStatus, TrackingEvent
from shipments.redis_client import RedisUnavailable

from .safety import carrier_public_url, http_url, mask_email

# Tokens are `secrets.token_urlsafe(24)`; anything else is not worth a query.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_EVENTS = 200
MAX_LOOKUP_CANDIDATES = 20


# --- Lookup ---------------------------------------------------------------------------------------


def order_number_key(value: str) -> str:
    """What the shopper typed, as we compare it: no spaces, no leading '#', case-folded."""
    return re.sub(r"\s+", "", value or "").lstrip("#").casefold()


@dataclass(frozen=True)
class OrderMatch:
    token: str | None  # the order's first shipment; None while nothing has shipped
    store_name: str
    order_number: str


def _same_email(stored: str, typed: str) -> bool:
    return hmac.compare_digest(
        stored.strip().casefold().encode("utf-8"), typed.strip().casefold().encode("utf-8")
    )


def order_lookup(*, order_number: str, email: str, store_slug: str = "") -> OrderMatch | None:
    """The order with this number and customer e-mail (case-insensitive), or None.

    A missing order and a wrong e-mail do the same work: one query by order number, then an
    e-mail comparison in constant time over every candidate.
    """
    key = order_number_key(order_number)
    if not key:
        return None
    first_shipment = (
        Shipment.objects.filter(order=OuterRef("pk"), store=OuterRef("store"))
        .order_by("shipped_at", "pk")
        .values("public_token")[:1]
    )
    # Stored numbers may or may not carry the '#'; both spellings match.
    query = Q(order_number__iexact=key) | Q(order_number__iexact=f"#{key}")
    candidates = Order.objects.filter(query)
    if store_slug:
        candidates = candidates.filter(store__slug=store_slug)
    rows = list(
        candidates.annotate(token=Subquery(first_shipment))
        .order_by("-placed_at", "-pk")
        .values_list(
            "customer_email", "token", "store__display_name", "store__name", "order_number"
        )[:MAX_LOOKUP_CANDIDATES]
    )
    match: OrderMatch | None = None
    for stored_email, token, display_name, name, number in rows:
        if _same_email(stored_email, email) and match is None:
            match = OrderMatch(token=token, store_name=display_name or name, order_number=number)
    return match


# --- The tracking page ----------------------------------------------------------------------------


def _check_token(token: str) -> None:
    if not _TOKEN.match(token or ""):
        raise Http404("no such tracking page")


def shipment_for_token(token: str) -> Shipment:
    """The shipment behind a public token (with its order and store), else 404."""
    _check_token(token)
    shipment = Shipment.objects.select_related("order", "store").filter(public_token=token).first()
    if shipment is None:
        raise Http404("no such tracking page")
    return shipment


def order_shipments(shipment: Shipment) -> QuerySet[Shipment]:
    """The shipments of the same order (and store), first shipped first."""
    return Shipment.objects.filter(order_id=shipment.order_id, store_id=shipment.store_id).order_by(
        "shipped_at", "pk"
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
    "estimated_delivery",
    "last_event_at",
    "last_synced_at",
    "public_token",
    "shipped_at",
    "order__order_number",
    "order__customer_email",
    "store__name",
    "store__display_name",
    "store__logo_url",
    "store__time_zone",
)


def shipment_with_siblings(token: str) -> tuple[Shipment, list[Shipment]]:
    """The shipment behind a public token and every shipment of its order (itself included,
    first shipped first), in one query; else 404. Only the same store's shipments count."""
    _check_token(token)
    rows = list(
        Shipment.objects.select_related("order", "store")
        .only(*PAGE_FIELDS)
        .filter(order__shipments__public_token=token)
        .order_by("shipped_at", "pk")
    )
    shipment = next((row for row in rows if row.public_token == token), None)
    if shipment is None:
        raise Http404("no such tracking page")
    return shipment, [row for row in rows if row.store_id == shipment.store_id]


def shipment_ref_for_token(token: str) -> Shipment:
    """The shipment behind a public token with only its ids and token loaded (what a resync
    and its status need), else 404. Other fields would load on access."""
    _check_token(token)
    try:
        return Shipment.objects.only("store_id", "order_id", "public_token").get(public_token=token)
    except Shipment.DoesNotExist:
        raise Http404("no such tracking page") from None


# Labels of choices, per language. `get_FOO_display()` rebuilds a hashable copy of every choice
# (a translation lookup each) on every call: the page would pay that some twenty times.
@lru_cache(maxsize=64)
def _labels(field: str, language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in Shipment._meta.get_field(field).flatchoices}


def status_label(status: str) -> str:
    """`shipment.get_status_display()` (events share the same choices)."""
    return _labels("status", get_language()).get(status, status)


def carrier_label(carrier: str) -> str:
    """`shipment.get_carrier_display()`."""
    return _labels("carrier", get_language()).get(carrier, carrier)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One carrier scan as the page shows it; `iso`, `date` and `time` are `occurred_at` in
    the store's time zone as `|date:'c'`, `|date:"DATE_FORMAT"` and `|date:"TIME_FORMAT"`
    would render it (formatted once here: thirty template filters cost half the timeline)."""

    occurred_at: dt.datetime
    status: str
    description: str
    location: str
    iso: str = ""
    date: str = ""
    time: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True, slots=True)
class ShipmentTab:
    """A shipment of the order, as the page's tabs (and the JSON's `shipments`) show it."""

    pk: int
    carrier: str
    status: str
    tracking_number: str
    url: str
    carrier_label: str
    status_label: str

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentTab:
        return cls(
            pk=shipment.pk,
            carrier=shipment.carrier,
            status=shipment.status,
            tracking_number=shipment.tracking_number,
            url=shipment.get_tracking_url(),
            carrier_label=carrier_label(shipment.carrier),
            status_label=status_label(shipment.status),
        )


def shipment_events(shipment: Shipment, tz: dt.tzinfo | None = None) -> list[TimelineEvent]:
    """The shipment's scans, newest first (plain rows: nothing but what the page shows), their
    times formatted in `tz` (default: the store's time zone) for the active language."""
    tz = tz or shipment.store.tz
    rows = (
        TrackingEvent.objects.filter(shipment_id=shipment.pk)
        .order_by("-occurred_at", "-pk")
        .values_list("occurred_at", "status", "description", "location")[:MAX_EVENTS]
    )
    dates: dict[dt.date, str] = {}  # scans cluster on a few days: format each day once
    events = []
    for occurred_at, status, description, location in rows:
        local = occurred_at.astimezone(tz)
        day = local.date()
        if day not in dates:
            dates[day] = formats.date_format(local, "DATE_FORMAT")
        events.append(
            TimelineEvent(
                occurred_at,
                status,
                description,
                location,
                iso=local.isoformat(),
                date=dates[day],
                time=formats.date_format(local, "TIME_FORMAT"),
            )
        )
    return events


def shipment_wait(shipment: Shipment) -> int:
    """Seconds until the shared cooldown lets this shipment resync (0 when Redis is down: the
    page still renders, and the resync itself will say it is unavailable)."""
    try:
        return shipment_retry_after(shipment.store_id, shipment.pk)
    except RedisUnavailable:
        return 0


def latest_job(shipment: Shipment) -> ResyncJob | None:
    """The shipment's latest resync (from any place): a reload during the cooldown, or a
    browser without JavaScript coming back from its POST, still sees how it went."""
    return ResyncJob.objects.filter(shipment=shipment).order_by("-created_at").first()


STEPS = (
    ("ordered", _("Ordered")),
    ("shipped", _("Shipped")),
    ("in_transit", _("In transit")),
    ("out_for_delivery", _("Out for delivery")),
    ("delivered", _("Delivered")),
)
_PROGRESS = {
    ShipmentStatus.PENDING: 1,
    ShipmentStatus.INFO_RECEIVED: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.FAILED_ATTEMPT: 3,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: 3,
    ShipmentStatus.DELIVERED: 4,
}
# Statuses that are not a step of their own: shown on the step reached, distinctly.
ALERTS = {
    ShipmentStatus.EXCEPTION: _("There is a problem with this shipment. See the latest update."),
    ShipmentStatus.FAILED_ATTEMPT: _(
        "The carrier tried to deliver the parcel but could not. "
        "They usually try again or leave instructions."
    ),
    ShipmentStatus.AVAILABLE_FOR_PICKUP: _("Your parcel is waiting for you at a pickup point."),
    ShipmentStatus.EXPIRED: _("The carrier has not reported anything new for a long time."),
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # "done" | "current" | "upcoming"
    alert: str = ""  # the special status shown on the current step, if any


def status_steps(shipment: Shipment, events: list[TimelineEvent]) -> list[Step]:
    """Ordered → Shipped → In transit → Out for delivery → Delivered, with the current step
    marked; exception / failed attempt / pickup / expired show on the step reached."""
    status = shipment.status
    if status in _PROGRESS:
        reached = _PROGRESS[ShipmentStatus(status)]
    else:
        reached = max((_PROGRESS.get(e.status, 1) for e in events), default=1)
    alert = status_label(status) if status in ALERTS else ""
    steps = []
    for index, (key, label) in enumerate(STEPS):
        if index < reached:
            steps.append(Step(key, str(label), "done"))
        elif index == reached:
            steps.append(Step(key, str(label), "current", alert))
        else:
            steps.append(Step(key, str(label), "upcoming"))
    return steps


def tracking_context(shipment: Shipment, siblings: list[Shipment] | None = None) -> dict[str, Any]:
    """Everything the page (and its timeline fragment) shows: shopper-safe by construction.
    `siblings`: the order's shipments when already loaded (`shipment_with_siblings`)."""
    store = shipment.store
    events = shipment_events(shipment, store.tz)
    if siblings is None:
        siblings = list(order_shipments(shipment))
    tabs = [ShipmentTab.of(other) for other in siblings]
    retry_after = shipment_wait(shipment)
    label = status_label(shipment.status)
    # The carrier's own wording, when it says more than the status and the latest event do.
    carrier_note = shipment.carrier_status_text.strip()
    repeats = {label.casefold()}
    if events:
        repeats.add(events[0].description.strip().casefold())
    if carrier_note.casefold() in repeats:
        carrier_note = ""
    return {
        "shipment": shipment,
        "status_label": label,
        "carrier_label": carrier_label(shipment.carrier),
        "order": shipment.order,
        "store": store,
        "brand_name": store.brand_name,
        "logo_url": http_url(store.logo_url),
        "masked_email": mask_email(shipment.order.customer_email),
        "carrier_url": carrier_public_url(shipment.carrier, shipment.tracking_number),
        "carrier_note": carrier_note,
        "events": events,
        "steps": status_steps(shipment, events),
        "alert": ALERTS.get(ShipmentStatus(shipment.status)) if shipment.status in ALERTS else "",
        "siblings": tabs if len(tabs) > 1 else [],
        "tabs": tabs,
        "retry_after": retry_after,
        "last_job": latest_job(shipment) if retry_after else None,
        "time_zone": store.time_zone,
    }


def _iso(value: Any, tz: Any) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def tracking_payload(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The JSON subset of the page (SPEC §5): no internal ids, no notes, e-mail masked."""
    shipment: Shipment = context["shipment"]
    tz = context["store"].tz
    tabs: list[ShipmentTab] = context["tabs"] or [ShipmentTab.of(shipment)]
    return {
        "store": {"name": context["brand_name"]},
        "order_number": context["order"].order_number,
        "customer_email": context["masked_email"],
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": request.build_absolute_uri(shipment.get_tracking_url()),
        "carrier_url": context["carrier_url"],
        "status": shipment.status,
        "sub_status": shipment.sub_status,
        "estimated_delivery": _iso(shipment.estimated_delivery, tz),
        "last_synced_at": _iso(shipment.last_synced_at, tz),
        "retry_after": context["retry_after"],
        "time_zone": context["time_zone"],
        "events": [
            {
                "occurred_at": _iso(event.occurred_at, tz),
                "status": event.status,
                "description": event.description,
                "location": event.location,
            }
            for event in context["events"]
        ],
        "shipments": [
            {
                "tracking_number": other.tracking_number,
                "carrier": other.carrier,
                "status": other.status,
                "tracking_url": request.build_absolute_uri(other.url),
            }
            for other in tabs
        ],
    }
