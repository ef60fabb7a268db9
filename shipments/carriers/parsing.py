"""Pure helpers the carriers' parse halves share: text, times, places, event order.

Nothing here knows a carrier's format: the tables and field names stay in each adapter. The
helpers never raise on odd input; what they cannot read they log (through the adapter's own
logger, so log records keep the adapter's name) and return None or "".
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from .base import TrackingEventData
from .statuses import Status

_OFFSET = re.compile(r"^([+-])?(\d{1,2})(?::?(\d{2}))?$")


def text(value: Any) -> str:
    """`str(value)` without surrounding white space; None → ""."""
    if value is None:
        return ""
    return str(value).strip()


def scalar_text(value: Any) -> str:
    """Like `text`, but a JSON object or array (never a usable string) → "" too."""
    if isinstance(value, Mapping | list):
        return ""
    return text(value)


def number_key(value: Any) -> str:
    """A tracking number as compared with the carrier's answer: no spaces, upper case."""
    return text(value).replace(" ", "").upper()


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def json_or_none(response: requests.Response) -> Any:
    """The response's JSON body, or None when it has none (an error page, an empty body)."""
    try:
        return response.json()
    except ValueError:
        return None


def parse_iso_datetime(
    value: Any,
    *,
    what: str,
    carrier: str,
    log: logging.Logger,
    naive_as_utc: bool = True,
) -> dt.datetime | None:
    """An ISO 8601 date or date-time; None for nothing, None and a warning when unreadable.

    A naive value is read as UTC, or returned naive with `naive_as_utc=False` (for callers that
    look for an offset elsewhere). The warning reads "<carrier>: unreadable <what> <value>".
    """
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        log.warning("%s: unreadable %s %r", carrier, what, raw)
        return None
    if naive_as_utc and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def parse_utc_offset(value: Any, *, sign_required: bool = False) -> dt.timezone | None:
    """ "-05:00", "-5:00", "+0530" (and "9" unless `sign_required`) → a fixed zone, else None."""
    match = _OFFSET.match(text(value))
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if sign is None and sign_required:
        return None
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= dt.timedelta(hours=24):
        return None
    return dt.timezone(-delta if sign == "-" else delta)


def place(city: str, state: str = "", postal_code: str = "", country: str = "") -> str:
    """ "City, STATE POSTCODE, COUNTRY", leaving out what is empty ("Bonn, DE")."""
    region = " ".join(part for part in (state, postal_code) if part)
    return ", ".join(part for part in (city, region, country) if part)


def newest_first(
    events: Iterable[TrackingEventData], *, listed_oldest_first: bool = False
) -> tuple[TrackingEventData, ...]:
    """Events without repeats (same fingerprint: the first kept), newest first.

    The sort is stable: events at the same instant keep the order they were listed in, reversed
    first when the carrier lists oldest first, so that ties end up newest-listed first.
    """
    unique: dict[str, TrackingEventData] = {}
    for event in events:
        unique.setdefault(event.fingerprint, event)
    ordered = list(unique.values())
    if listed_oldest_first:
        ordered.reverse()
    return tuple(sorted(ordered, key=lambda e: e.occurred_at, reverse=True))


def two_level_status(
    *,
    detail: str,
    family: str,
    details: Mapping[str, Status],
    families: Mapping[str, Status],
    default: Status,
    log: logging.Logger,
    carrier: str,
    what: tuple[str, str, str],
) -> Status:
    """A status given as a detail code and its family (`Delivered_001` of `Delivered`): the
    detail's entry, else the family's (the given one, else the part of the detail before "_"),
    else `default`. Each code that is not in its table is logged; `what` names the detail, the
    family after "using" and the family on its own, in the carrier's words (e.g. ("subtag",
    "tag", "tag"))."""
    if detail:
        status = details.get(detail)
        if status is not None:
            return status
        family = family or detail.split("_", 1)[0]
        log.warning("%s: unknown %s %r, using %s %r", carrier, what[0], detail, what[1], family)
    if family:
        status = families.get(family)
        if status is not None:
            return status
        log.warning("%s: unknown %s %r, using %s", carrier, what[2], family, default.value)
    return default
