"""CSV import: a merchant's file of shipments, checked whole, then stored all at once.

Every row is checked first, without a query (lengths, e-mail, date, the same tracking number
twice for different orders); one bad row refuses the file, with every bad row listed, and
nothing is stored. A good file goes to `shipments_ingest` in one call: orders and shipments are
created or updated in batches, carriers mapped (code, catalogue name, the store's own names,
the number's format, else "Needs carrier"), and one sync run (window `import`) pulls the new
ones. The format is in docs/csv-import.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from shipments.models import RequestSource, Store
from shipments.services import Incoming, IngestResult, shipments_ingest
from shipments.services.ingest import clean_tracking_number

from .csv_read import CsvProblem, CsvRejected, decode, read_table, too_large

COLUMNS = ("order_number", "email", "tracking_number", "carrier", "shipped_at")
REQUIRED = ("order_number", "email", "tracking_number")
# The stored fields' lengths (Order.order_number, EmailField, Shipment.tracking_number, a
# carrier name as the store's own names take it) and a generous one for a date.
MAX_LENGTH = {
    "order_number": 64,
    "email": 254,
    "tracking_number": 64,
    "carrier": 100,
    "shipped_at": 40,
}
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
DATE_EXAMPLES = "2026-11-20, 2026-11-20 14:30, 2026-11-20T14:30:00+01:00, 2026-11-20T13:30:00Z"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ISO_START = re.compile(r"\d{4}-?\d{2}")


def _labels() -> dict[str, str]:
    return {
        "order_number": _("order number"),
        "email": _("e-mail"),
        "tracking_number": _("tracking number"),
        "carrier": _("carrier"),
        "shipped_at": _("shipping date"),
    }


def max_rows() -> int:
    return int(getattr(settings, "CSV_IMPORT_MAX_ROWS", 10_000))


def max_bytes() -> int:
    return int(getattr(settings, "CSV_IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def parse_shipped_at(value: str, time_zone: dt.tzinfo) -> dt.datetime | None:
    """An ISO 8601 date or date-time; without an offset it is the store's local time (a date
    alone is midnight there). None when it is not one, or not between 2000 and 2100."""
    if not ISO_START.match(value):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=time_zone)
    return when.astimezone(dt.UTC)


@dataclass
class _Checker:
    """Checks rows one by one, gathering every problem (no query: everything is in memory)."""

    time_zone: dt.tzinfo
    width: int
    problems: list[CsvProblem]

    def __post_init__(self) -> None:
        self.labels = _labels()
        self.numbers: dict[str, tuple[int, str]] = {}  # tracking number → (line, order number)

    def problem(self, line: int, column: str | None, message: str) -> None:
        self.problems.append(CsvProblem(line, column, message))

    def cell(self, line: int, column: str, value: str) -> str | None:
        """The cell without surrounding spaces, or None (and a problem) when it cannot be."""
        value = value.strip()
        label = self.labels[column]
        if CONTROL.search(value):
            self.problem(
                line,
                column,
                _("The %(label)s contains a line break or a control character.") % {"label": label},
            )
            return None
        if not value and column in REQUIRED:
            self.problem(line, column, _("The %(label)s is empty.") % {"label": label})
            return None
        if column == "tracking_number":
            value = clean_tracking_number(value)
        if len(value) > MAX_LENGTH[column]:
            self.problem(
                line,
                column,
                _("The %(label)s is too long: %(length)d characters, at most %(max)d.")
                % {"label": label, "length": len(value), "max": MAX_LENGTH[column]},
            )
            return None
        return value

    def row(self, line: int, cells: list[str], columns: dict[str, int]) -> Incoming | None:
        before = len(self.problems)
        extra = cells[self.width :]
        if any(cell.strip() for cell in extra):
            self.problem(
                line,
                None,
                _(
                    "This line has %(cells)d cells but the header has %(header)d. "
                    "Put cells that contain a comma in double quotes."
                )
                % {"cells": len(cells), "header": self.width},
            )
        values: dict[str, str | None] = {}
        for column, index in columns.items():
            values[column] = self.cell(line, column, cells[index] if index < len(cells) else "")
        email = values.get("email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.problem(
                    line,
                    "email",
                    _("“%(value)s” is not a valid e-mail address.") % {"value": email},
                )
        shipped_at = None
        if raw_date := values.get("shipped_at"):
            shipped_at = parse_shipped_at(raw_date, self.time_zone)
            if shipped_at is None:
                self.problem(
                    line,
                    "shipped_at",
                    _(
                        "“%(value)s” is not a date. Use an ISO 8601 date or date and time "
                        "between %(first)d and %(last)d, e.g. %(examples)s."
                    )
                    % {
                        "value": raw_date,
                        "first": EARLIEST_YEAR,
                        "last": LATEST_YEAR,
                        "examples": DATE_EXAMPLES,
                    },
                )
        order_number, number = values.get("order_number"), values.get("tracking_number")
        if order_number and number:
            self._once(line, order_number, number)
        if len(self.problems) > before:
            return None
        return Incoming(
            order_number=order_number or "",
            email=email or "",
            tracking_number=number or "",
            carrier=values.get("carrier") or "",
            shipped_at=shipped_at,
        )

    def _once(self, line: int, order_number: str, number: str) -> None:
        """A tracking number belongs to one order: the same number for another order is a
        mistake (the same row twice is not)."""
        first = self.numbers.setdefault(number, (line, order_number))
        if first[1] != order_number:
            self.problem(
                line,
                "tracking_number",
                _(
                    "The tracking number %(number)s is also on line %(line)d, for order "
                    "%(order)s. A tracking number belongs to one order."
                )
                % {"number": number, "line": first[0], "order": first[1]},
            )


def csv_rows_validate(
    *, data: bytes, time_zone: dt.tzinfo, limit: int | None = None
) -> list[Incoming]:
    """The file's rows, ready for `shipments_ingest`; raises `CsvRejected` listing every
    problem (every bad row, or what is wrong with the file as a whole)."""
    if len(data) > max_bytes():
        raise too_large(max_bytes())
    table = read_table(decode(data), known=COLUMNS, required=REQUIRED, max_rows=limit or max_rows())
    checker = _Checker(time_zone=time_zone, width=table.width, problems=[])
    rows = [checker.row(line, cells, table.columns) for line, cells in table.records]
    if checker.problems:
        raise CsvRejected(checker.problems)
    return [row for row in rows if row is not None]


def csv_import(*, store: Store, data: bytes, user: Any = None) -> IngestResult:
    """Check the whole file, then create or update its shipments in the store, all or nothing.

    Raises `CsvRejected` (nothing stored). The result's `run` is the sync run (window
    `import`) pulling the new shipments, None when none has a carrier to ask.
    """
    rows = csv_rows_validate(data=data, time_zone=store.tz)
    return shipments_ingest(
        store=store, rows=rows, first_pull="run", source=RequestSource.MERCHANT, user=user
    )
