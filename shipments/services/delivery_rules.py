"""The store's delivery rule: what the tracking page estimates when the carrier gives no date
(the computation itself is `shipments.delivery`, free of Django)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_time
from django.utils.translation import gettext as _

from ..models import Store

DELIVERY_FIELDS = (
    "delivery_processing_days",
    "delivery_transit_days",
    "delivery_transit_by_carrier",
    "delivery_business_days",
    "delivery_cutoff",
)


def _days(value: Any) -> int:
    try:
        days = int(str(value).strip() or "0")
    except (TypeError, ValueError):
        raise ValidationError(
            {"delivery_processing_days": _("Enter a whole number of days.")}
        ) from None
    return days


def _cutoff(value: Any) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = parse_time(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({"delivery_cutoff": _("Enter a time like 14:00.")})
    return parsed


def _weekdays(value: str | Iterable[Any]) -> str:
    """ "12345", or the ticked weekdays (["1", "2"] or [1, 2]) → "12…" in order."""
    if isinstance(value, str):
        return value.strip()
    try:
        days = sorted({int(day) for day in value})
    except (TypeError, ValueError):
        return "?"
    return "".join(str(day) for day in days)


def store_delivery_rule_set(
    *,
    store: Store,
    processing_days: int | str,
    transit_days: str,
    transit_by_carrier: Mapping[str, str],
    business_days: str | Iterable[Any],
    cutoff: dt.time | str | None,
) -> Store:
    """Set the store's delivery rule; ValidationError (by field) leaves it as it was. Empty
    transit days switch the estimate off; empty per-carrier values fall back to the default."""
    before = {field: getattr(store, field) for field in DELIVERY_FIELDS}
    try:
        store.delivery_processing_days = _days(processing_days)
        store.delivery_transit_days = (transit_days or "").strip()
        store.delivery_transit_by_carrier = {
            code: str(value).strip()
            for code, value in (transit_by_carrier or {}).items()
            if str(value or "").strip()
        }
        store.delivery_business_days = _weekdays(business_days)
        store.delivery_cutoff = _cutoff(cutoff)
        others = [f.name for f in Store._meta.concrete_fields if f.name not in DELIVERY_FIELDS]
        store.clean_fields(exclude=others)
        store.clean()
    except ValidationError:
        for field, value in before.items():
            setattr(store, field, value)
        raise
    store.save(update_fields=list(DELIVERY_FIELDS))
    return store
