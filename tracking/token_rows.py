"""One-row reads by public token for the two hottest paths: every view of the tracking page
(`page_version_for_token`) and every shopper resync (`shipment_ref_for_token`).

Both are one indexed query whose SQL is built once from the models' metadata (so it follows
their tables and columns) and kept: the ORM spent more time compiling these queries than the
database spent answering them (bench/README.md). Like `selectors`, they only read, and "not
found" is None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.utils.dateparse import parse_datetime

from shipments.models import Order, Shipment, Store

from .selectors import RULE_FIELDS, valid_token


def _col(model: type, name: str) -> str:
    return model._meta.get_field(name).column


def _row_for_token(sql: str, token: str) -> tuple | None:
    """The one row `sql` finds for a public token; None for no row, or for a string that is not
    a token (which costs no query)."""
    if not valid_token(token):
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, [token])
        return cursor.fetchone()


def _aware(value: object) -> dt.datetime | None:
    """A timestamp column as an aware datetime (SQLite hands back naive UTC or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- What a resync needs --------------------------------------------------------------------------

# The shipment's and its store's fields a resync and its status read; others load on access.
_REF_SHIPMENT = ("id", "store_id", "order_id", "public_token", "last_event_at")
_REF_STORE = ("id", "time_zone", "default_language")


@cache
def _ref_sql(vendor: str) -> str:
    ship, store = Shipment._meta.db_table, Store._meta.db_table
    own = ", ".join(f"s.{_col(Shipment, name)}" for name in _REF_SHIPMENT)
    theirs = ", ".join(f"st.{_col(Store, name)}" for name in _REF_STORE[1:])
    return (
        f"SELECT {own}, {theirs} FROM {ship} s"  # noqa: S608 (names from the models' meta)
        f" JOIN {store} st ON st.id = s.{_col(Shipment, 'store')}"
        f" WHERE s.{_col(Shipment, 'public_token')} = %s"
        f" AND s.{_col(Shipment, 'cancelled_at')} IS NULL"
    )


def _instance(model: type, values: dict[str, object]):
    """A model instance as the ORM loads one with `.only(...)`: the other fields deferred."""
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias, list(values), [values[f.attname] for f in fields if f.attname in values]
    )


def shipment_ref_for_token(token: str) -> Shipment | None:
    """The shipment behind a public token with only what a resync and its status need loaded
    (its ids and token; the time of its latest event, its store's time zone and language for the
    shopper's sentences), or None. Other fields load on access, as with `.only()`."""
    row = _row_for_token(_ref_sql(connection.vendor), token)
    if row is None:
        return None
    own = dict(zip(_REF_SHIPMENT, row[: len(_REF_SHIPMENT)], strict=True))
    own["last_event_at"] = _aware(own["last_event_at"])
    store_values = (own["store_id"], *row[len(_REF_SHIPMENT) :])
    store = _instance(Store, dict(zip(_REF_STORE, store_values, strict=True)))
    shipment = _instance(Shipment, own)
    Shipment.store.field.set_cached_value(shipment, store)
    return shipment


# --- What the cached page depends on ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageVersion:
    """A tracking page's ids, its store's language, its "last updated" times, and `version`:
    every value the rendered page depends on (the store's branding and rule, the order's number
    and e-mail, when the order's shipments last changed and how many are shown). Any write
    people can see moves it, so the page's cache key (`tracking.page_cache`) moves with it."""

    shipment_id: int
    store_id: int
    default_language: str
    time_zone: str
    last_event_at: dt.datetime | None
    last_synced_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_sync_outcome: str
    version: tuple


_STORE_SHOWN = (
    "name", "display_name", "logo_url", "time_zone", "default_language", *RULE_FIELDS[:-1],
)  # fmt: skip


@cache
def _page_version_sql(vendor: str) -> str:
    """One statement: the shipment by token with its order's and store's shown columns and two
    aggregates over the order's shown shipments. Identifiers come from the models' meta."""
    ship, order, store = (m._meta.db_table for m in (Shipment, Order, Store))
    col = _col
    own = ", ".join(
        f"s.{col(Shipment, f)}"
        for f in ("id", "store", "updated_at", "last_synced_at", "last_success_at",
                  "last_sync_outcome", "last_event_at")
    )  # fmt: skip
    siblings = (
        f"FROM {ship} x WHERE x.{col(Shipment, 'order')} = s.{col(Shipment, 'order')}"
        f" AND x.{col(Shipment, 'store')} = s.{col(Shipment, 'store')}"
        f" AND x.{col(Shipment, 'cancelled_at')} IS NULL"
    )
    shown = ", ".join(f"st.{col(Store, f)}" for f in _STORE_SHOWN)
    return (
        f"SELECT {own}, o.{col(Order, 'order_number')}, o.{col(Order, 'customer_email')}, {shown},"  # noqa: S608
        f" (SELECT MAX(x.{col(Shipment, 'updated_at')}) {siblings}),"
        f" (SELECT COUNT(*) {siblings})"
        f" FROM {ship} s JOIN {order} o ON o.id = s.{col(Shipment, 'order')}"
        f" JOIN {store} st ON st.id = s.{col(Shipment, 'store')}"
        f" WHERE s.{col(Shipment, 'public_token')} = %s"
        f" AND s.{col(Shipment, 'cancelled_at')} IS NULL"
    )


def page_version_for_token(token: str) -> PageVersion | None:
    """What a public token's page depends on, in one indexed query (no model instances: this
    runs on every view of the page, cached or not); None when there is no such page."""
    row = _row_for_token(_page_version_sql(connection.vendor), token)
    if row is None:
        return None
    shipment_id, store_id, _updated, synced, success, outcome, last_event = row[:7]
    store_columns = dict(zip(_STORE_SHOWN, row[9:], strict=False))
    return PageVersion(
        shipment_id=shipment_id,
        store_id=store_id,
        default_language=store_columns["default_language"],
        time_zone=store_columns["time_zone"],
        last_event_at=_aware(last_event),
        last_synced_at=_aware(synced),
        last_success_at=_aware(success),
        last_sync_outcome=outcome,
        version=tuple(str(value) for value in row),
    )
