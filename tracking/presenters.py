"""What the public tracking page and its JSON show, shaped from what the selectors read.

Shopper-safe by construction: no internal ids, no notes, the e-mail masked, only http(s) links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shipments.carriers.actual import own_carrier
from shipments.models import Shipment, ShipmentStatus, Store

from .estimates import estimate_payload, shopper_estimate
from .safety import carrier_public_url, http_url, mask_email, real_carrier_url
from .selectors import order_shipments, shipment_event_rows, shipment_wait

CARRIER_NOT_KNOWN = _("Not known yet")


# Labels of choices, per language. `get_FOO_display()` rebuilds a hashable copy of every choice
# (a translation lookup each) on every call: the page would pay that some twenty times.
@lru_cache(maxsize=64)
def _labels(field: str, language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in Shipment._meta.get_field(field).flatchoices}


def status_label(status: str) -> str:
    """`shipment.get_status_display()` (events share the same choices)."""
    return _labels("status", get_language()).get(status, status)


def carrier_label(carrier: str | None) -> str:
    """`shipment.get_carrier_display()`; a shipment without a carrier yet says so."""
    if not carrier:
        return str(CARRIER_NOT_KNOWN)
    return _labels("carrier", get_language()).get(carrier, carrier)


# Shoppers see the carrier that carries the parcel. For a shipment tracked through an aggregator
# (17TRACK, AfterShip) that is the carrier the aggregator reported, never the aggregator itself
# (its name, code or link): not known yet until it has named one.


def shopper_carrier_name(shipment: Shipment) -> str | None:
    """The carrier's name for shoppers, or None while no (real) carrier is known."""
    if not shipment.carrier:
        return None
    if shipment.is_aggregated:
        return shipment.actual_carrier_name or None
    return carrier_label(shipment.carrier)


def shopper_carrier_code(shipment: Shipment) -> str | None:
    """Our carrier code for shoppers: through an aggregator, the real carrier's when it is one of
    ours, else None."""
    if shipment.is_aggregated:
        code = shipment.actual_carrier_code
        return code if own_carrier(code) is not None else None
    return shipment.carrier or None


def shopper_carrier_url(shipment: Shipment) -> str | None:
    """The real carrier's own tracking page for the parcel, when known."""
    if shipment.is_aggregated:
        return (
            real_carrier_url(shipment.actual_carrier_url) if shipment.actual_carrier_known else None
        )
    return carrier_public_url(shipment.carrier, shipment.tracking_number)


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
    # The carrier's wall-clock time, the place's zone unknown: shown as given, "local time".
    local_time_only: bool = False

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True, slots=True)
class ShipmentTab:
    """A shipment of the order, as the page's tabs (and the JSON's `shipments`) show it."""

    pk: int
    carrier: str | None
    status: str
    tracking_number: str
    url: str
    carrier_label: str
    status_label: str
    carrier_name: str | None = None

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentTab:
        return cls(
            pk=shipment.pk,
            carrier=shopper_carrier_code(shipment),
            status=shipment.status,
            tracking_number=shipment.tracking_number,
            url=shipment.get_tracking_url(),
            carrier_label=shopper_carrier_name(shipment) or str(CARRIER_NOT_KNOWN),
            status_label=status_label(shipment.status),
            carrier_name=shopper_carrier_name(shipment),
        )


def shipment_events(shipment: Shipment, tz: dt.tzinfo | None = None) -> list[TimelineEvent]:
    """The shipment's scans, newest first, their times formatted in `tz` (default: the store's
    time zone) for the active language."""
    tz = tz or shipment.store.tz
    dates: dict[dt.date, str] = {}  # scans cluster on a few days: format each day once
    events = []
    for occurred_at, status, description, location, local_only in shipment_event_rows(shipment):
        # A wall clock of an unknown zone is kept as UTC: shown as it was given, not converted.
        local = occurred_at.astimezone(dt.UTC if local_only else tz)
        day = local.date()
        if day not in dates:
            dates[day] = formats.date_format(local, "DATE_FORMAT")
        events.append(
            TimelineEvent(
                occurred_at,
                status,
                description,
                location,
                iso=local.replace(tzinfo=None).isoformat() if local_only else local.isoformat(),
                date=dates[day],
                time=formats.date_format(local, "TIME_FORMAT"),
                local_time_only=local_only,
            )
        )
    return events


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


@dataclass(frozen=True, slots=True)
class LanguageLink:
    """One option of the language switcher: a plain link, so it works without JavaScript."""

    code: str
    name: str  # in its own language ("Deutsch")
    url: str
    current: bool


def language_switcher(request: HttpRequest) -> list[LanguageLink]:
    """The page's own URL with `?lang=` for each language (other query parameters kept, but
    never an e-mail address: links end up in histories and logs)."""
    return language_links(request.path, request.GET)


def language_links(path: str, query: QueryDict | None = None) -> list[LanguageLink]:
    """`language_switcher` for `path` and `query` (none: the links alone)."""
    current = get_language()
    links = []
    for code, name in settings.LANGUAGES:
        params = query.copy() if query else QueryDict(mutable=True)
        params.pop("email", None)
        params["lang"] = code
        links.append(LanguageLink(code, name, f"{path}?{params.urlencode()}", code == current))
    return links


def lookup_branding(store: Store | None) -> dict[str, Any]:
    """The lookup page's branding for `?store=<slug>`: the store's name, logo and colour (its
    stylesheet, as the CSP allows no inline style); nothing for no store (the plain page)."""
    if store is None:
        return {}
    return {
        "brand_name": store.brand_name,
        "logo_url": http_url(store.logo_url),
        "theme_url": reverse("tracking:store_theme", args=[store.slug]),
    }


def parcel_context(shipment: Shipment) -> dict[str, Any]:
    """What the page shows of the parcel itself: status, carrier, estimate and scans. Nothing
    of its order (number, e-mail, other shipments) and no link to its token: what a lookup by
    tracking number alone may show."""
    store = shipment.store
    events = shipment_events(shipment, store.tz)
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
        "carrier_label": shopper_carrier_name(shipment) or str(CARRIER_NOT_KNOWN),
        "carrier_name": shopper_carrier_name(shipment),
        "store": store,
        "brand_name": store.brand_name,
        "logo_url": http_url(store.logo_url),
        "carrier_url": shopper_carrier_url(shipment),
        "carrier_note": carrier_note,
        "events": events,
        "steps": status_steps(shipment, events),
        "alert": ALERTS.get(ShipmentStatus(shipment.status)) if shipment.status in ALERTS else "",
        "estimate": shopper_estimate(
            shipment, carrier=shopper_carrier_code(shipment) or shipment.carrier
        ),
        "time_zone": store.time_zone,
        # "7 minutes ago": stored pages hold a marker for it, put in for each view (page_cache).
        "last_updated_ago": naturaltime(shipment.last_updated_at)
        if shipment.last_updated_at
        else "",
    }


def tracking_context(
    shipment: Shipment, siblings: list[Shipment] | None = None, *, retry_after: int | None = None
) -> dict[str, Any]:
    """Everything the page (and its timeline fragment) shows: shopper-safe by construction.
    `siblings`: the order's shipments when already loaded (`shipment_with_siblings`);
    `retry_after`: the cooldown when already known (else asked of Redis)."""
    context = parcel_context(shipment)
    if siblings is None:
        siblings = list(order_shipments(shipment))
    tabs = [ShipmentTab.of(other) for other in siblings]
    if retry_after is None:
        retry_after = shipment_wait(shipment)
    context.update(
        {
            "order": shipment.order,
            "masked_email": mask_email(shipment.order.customer_email),
            "siblings": tabs if len(tabs) > 1 else [],
            "tabs": tabs,
            "retry_after": retry_after,
        }
    )
    return context


def _iso(value: Any, tz: Any) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def parcel_payload(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON of `parcel_context`: the parcel alone, no order number, e-mail or token."""
    shipment: Shipment = context["shipment"]
    tz = context["store"].tz
    return {
        "store": {"name": context["brand_name"]},
        "carrier": shopper_carrier_code(shipment),
        "carrier_name": context["carrier_name"],
        "tracking_number": shipment.tracking_number,
        "carrier_url": context["carrier_url"],
        "status": shipment.status,
        "sub_status": shipment.sub_status,
        **estimate_payload(context["estimate"], shipment, tz),
        "last_synced_at": _iso(shipment.last_synced_at, tz),
        "last_success_at": _iso(shipment.last_updated_at, tz),
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
    }


def tracking_payload(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON subset of the page (docs/contract.md §5): no internal ids, no notes, e-mail
    masked. URLs are paths and the cooldown is left out: `payload_for_request` adds both (this
    part is what the page cache keeps)."""
    shipment: Shipment = context["shipment"]
    tabs: list[ShipmentTab] = context["tabs"] or [ShipmentTab.of(shipment)]
    return {
        **parcel_payload(context),
        "order_number": context["order"].order_number,
        "customer_email": context["masked_email"],
        "tracking_url": shipment.get_tracking_url(),
        "shipments": [
            {
                "tracking_number": other.tracking_number,
                "carrier": other.carrier,
                "status": other.status,
                "tracking_url": other.url,
            }
            for other in tabs
        ],
    }


def payload_for_request(
    request: HttpRequest, payload: dict[str, Any], retry_after: int
) -> dict[str, Any]:
    """`tracking_payload` as one request answers it: absolute URLs, the cooldown now."""
    absolute = request.build_absolute_uri
    return {
        **payload,
        "tracking_url": absolute(payload["tracking_url"]),
        "retry_after": retry_after,
        "shipments": [
            {**other, "tracking_url": absolute(other["tracking_url"])}
            for other in payload["shipments"]
        ],
    }
