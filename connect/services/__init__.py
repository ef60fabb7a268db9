"""Services of the ways in: they parse what a shop sends and end in `shipments.services.ingest`.

- `csv_read`: an uploaded CSV file's text, header and records (or why it cannot be read);
- `csv_import`: every row checked, then the whole file stored at once (or nothing).
"""

from .csv_import import csv_import, csv_rows_validate
from .csv_read import CsvProblem, CsvRejected

__all__ = ["CsvProblem", "CsvRejected", "csv_import", "csv_rows_validate"]
