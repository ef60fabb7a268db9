"""Reading an uploaded CSV file: bytes → header and records, or the reason it cannot be read.

Nothing here knows shipments: it checks that the file is UTF-8 text in CSV form (not an image,
a workbook or UTF-16), finds the columns by their header names and counts the rows. The rules of
each cell live in `csv_import`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

# The first bytes of files people pick by mistake instead of their CSV export.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97–2003 workbook (.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class CsvProblem:
    """What is wrong, where: `row` is the line in the file (the header is line 1; None for the
    file as a whole), `column` a header name (None for a whole line or the file)."""

    row: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, int | str | None]:
        return {"row": self.row, "column": self.column, "message": self.message}


class CsvRejected(Exception):
    """The file is refused as a whole; nothing was stored. `status` is the HTTP answer's."""

    def __init__(self, errors: Sequence[CsvProblem], *, status: int = 400) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = list(errors)
        self.status = status


def _save_as() -> str:
    return _("Save it from your spreadsheet as “CSV UTF-8” and upload it again.")


def _refuse(message: str, *, row: int | None = None, column: str | None = None) -> CsvRejected:
    return CsvRejected([CsvProblem(row, column, message)])


def too_large(max_bytes: int) -> CsvRejected:
    megabytes = max_bytes / (1024 * 1024)
    message = _(
        "The file is larger than %(size)s MB. Split it into smaller files "
        "(at most %(size)s MB each) and upload them one after the other."
    ) % {"size": f"{megabytes:g}"}
    return CsvRejected([CsvProblem(None, None, message)], status=413)


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte order mark. Anything else is refused."""
    if not data.strip():
        raise _refuse(_("The file is empty. Upload a CSV file with a header line and rows."))
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            raise _refuse(
                _("This is not a CSV file: it looks like %(kind)s. ") % {"kind": kind} + _save_as()
            )
    if data.startswith(UTF16_BOMS):
        raise _refuse(_("The file is UTF-16 text, not UTF-8. ") + _save_as())
    if b"\x00" in data:
        raise _refuse(_("This is not a CSV file: it contains binary data. ") + _save_as())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _refuse(
            _(
                "The file is not UTF-8 text (line %(line)d has a character in another "
                "encoding, such as Latin-1 or Windows-1252). "
            )
            % {"line": line}
            + _save_as(),
            row=line,
        ) from None
    if not text.strip():
        raise _refuse(_("The file is empty. Upload a CSV file with a header line and rows."))
    return text


def header_key(name: str) -> str:
    """A header cell as a column name: `Order number`, ` ORDER-NUMBER ` → `order_number`."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _delimiter(text: str) -> str:
    """Commas; or semicolons or tabs when the header line has no comma (spreadsheets in some
    languages save CSV with semicolons)."""
    first = text.split("\n", 1)[0]
    if "," in first:
        return ","
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class CsvTable:
    """The header's known columns (name → cell index) and the records: (line, cells)."""

    columns: dict[str, int]
    width: int
    records: list[tuple[int, list[str]]]


def read_table(
    text: str, *, known: Sequence[str], required: Sequence[str], max_rows: int
) -> CsvTable:
    """Split `text` into records, find the `known` columns by name (other columns are ignored)
    and refuse a file without a `required` column, without rows or with more than `max_rows`.

    Lines whose cells are all blank are skipped (spreadsheets leave some at the end).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            if header is None:
                header = cells
            elif any(cell.strip() for cell in cells):
                if len(records) >= max_rows:
                    raise _refuse(
                        _(
                            "The file has more than %(max)s rows. Split it into files of at "
                            "most %(max)s rows and upload them one after the other."
                        )
                        % {"max": f"{max_rows:,}"}
                    )
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _refuse(
            _("Line %(line)d cannot be read as CSV (%(reason)s). Check its quotes.")
            % {"line": line, "reason": exc},
            row=line,
        ) from None
    columns, problems = _columns(header or [], known=known, required=required)
    if problems:
        raise CsvRejected(problems)
    if not records:
        raise _refuse(_("The file has a header line but no rows below it."))
    return CsvTable(columns=columns, width=len(header or []), records=records)


def _columns(
    header: list[str], *, known: Sequence[str], required: Sequence[str]
) -> tuple[dict[str, int], list[CsvProblem]]:
    columns: dict[str, int] = {}
    problems: list[CsvProblem] = []
    for index, cell in enumerate(header):
        key = header_key(cell)
        if key not in known:
            continue
        if key in columns:
            problems.append(
                CsvProblem(1, key, _("The column “%(name)s” appears twice.") % {"name": key})
            )
        columns.setdefault(key, index)
    missing = [name for name in required if name not in columns]
    for name in missing:
        problems.append(
            CsvProblem(
                1,
                name,
                _(
                    "The column “%(name)s” is missing. The header line (line 1) must name the "
                    "columns %(required)s; %(optional)s are optional."
                )
                % {
                    "name": name,
                    "required": ", ".join(required),
                    "optional": ", ".join(n for n in known if n not in required),
                },
            )
        )
    return columns, problems
