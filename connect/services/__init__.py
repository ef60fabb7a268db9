"""Services of the ways in: they parse what a shop sends and write only through
`shipments.services` (ingest, corrections); and the records of the ways in themselves.

- `api_keys`: the merchant API's keys (create, revoke, authenticate);
- `shopify`: Shopify webhooks recorded, then applied on a worker;
- `csv_read`: an uploaded CSV file's text, header and records (or why it cannot be read);
- `csv_import`: every row checked, then the whole file stored at once (or nothing).

Views, the API, admin actions, management commands and tasks parse their input and call one of
these.
"""

from .api_keys import (
    KEY_PREFIX,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from .csv_import import csv_import, csv_rows_validate
from .csv_read import CsvProblem, CsvRejected

__all__ = [
    "KEY_PREFIX",
    "CsvProblem",
    "CsvRejected",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "csv_import",
    "csv_rows_validate",
]
