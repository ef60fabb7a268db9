"""CSV import benchmark: a 10,000-row file checked and stored, beside a raw bulk_create ceiling.

    .venv/bin/python bench/csv_import.py [--rows 10000] [--repeat 3]
        [--database-url sqlite:///…|postgres://…]

Builds one CSV file of --rows shipments (carriers as codes, catalogue names, a store's own name,
and empty cells left to the number's format; dates with and without offsets), then, each
--repeat times on a fresh store of the configured database:

- **validate**: `connect.services.csv_rows_validate` (decode, header, every cell checked; no
  query);
- **ingest**: `shipments.services.shipments_ingest` on the validated rows (orders, shipments,
  the import run and its items);
- **request**: the whole `POST /app/shipments/import/` through Django's test client (multipart
  parsing, session, validation, ingest, the JSON answer);
- **re-import**: the same POST again on that store (every row an update, nothing created);
- **ceiling**: a raw `bulk_create` of the same orders and shipments (carriers already known), no
  validation, no carrier mapping, no run: what the database alone costs.

Prints the best and the median of each. The run's dispatch is recorded instead of published (no
worker here: the pull is not part of the import). Asserts nothing.

The default database is a fresh SQLite file under var/bench/. A PostgreSQL database must exist
(e.g. `createdb -h 127.0.0.1 -U postgres resync_bench`); it is emptied first when its name
contains "bench".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=c.default_sqlite_url("csv_import.sqlite3"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    return parser.parse_args()


def build_file(rows: int) -> bytes:
    """A file as a shop exports it: a BOM, CRLF, every carrier form, some dates with offsets."""
    from shipments.carriers.numbers import example_number

    carriers = c.DEMO_CARRIERS
    names = {"dhl": "DHL Express", "ups": "United Parcel Service"}
    lines = ["order_number,email,tracking_number,carrier,shipped_at"]
    for i in range(rows):
        code = carriers[i % len(carriers)]
        number = example_number(code, 500_000 + i)
        form = i % 4
        carrier = (code, names.get(code, code.upper()), "Our courier", "")[form]
        when = ("2026-11-20", "2026-11-20 14:30", "2026-11-20T14:30:00+01:00", "")[i % 4]
        lines.append(f"#{200001 + i // 2},shopper{i // 2}@example.com,{number},{carrier},{when}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def new_store(slug: str) -> Any:
    from django.contrib.auth import get_user_model

    from shipments import services
    from shipments.models import Membership, Store

    store = Store.objects.create(name=slug, slug=slug, time_zone="Europe/Berlin")
    services.store_carrier_mapping_set(store=store, name="Our courier", carrier="dhl")
    user = get_user_model().objects.create_user(username=f"u-{slug}", password="pw-123456")
    Membership.objects.create(user=user, store=store, role=Membership.Role.OWNER)
    return store, user


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def carrier_codes(store: Any, rows: list[Any]) -> list[str | None]:
    """Each row's carrier, resolved before the ceiling's clock starts."""
    from shipments.services import carrier_resolve

    return [
        carrier_resolve(store=store, name=r.carrier, tracking_number=r.tracking_number).code
        for r in rows
    ]


def ceiling(store: Any, rows: list[Any], codes: list[str | None]) -> None:
    """The same orders and shipments, carriers already known, in two bulk_creates."""
    from django.db import transaction
    from django.utils import timezone

    from shipments.models import Order, Shipment

    now = timezone.now()
    with transaction.atomic():
        orders = {
            r.order_number: Order(
                store=store, order_number=r.order_number, customer_email=r.email, placed_at=now
            )
            for r in rows
        }
        Order.objects.bulk_create(list(orders.values()), batch_size=500)
        ids = dict(Order.objects.filter(store=store).values_list("order_number", "id"))
        Shipment.objects.bulk_create(
            [
                Shipment(
                    store=store,
                    order_id=ids[r.order_number],
                    carrier=code,
                    tracking_number=r.tracking_number,
                    shipped_at=r.shipped_at or now,
                )
                for r, code in zip(rows, codes, strict=True)
            ],
            batch_size=500,
        )


def figures(name: str, seconds: list[float], rows: int) -> tuple[str, str]:
    best, median = min(seconds), statistics.median(seconds)
    return name, f"best {best:6.3f} s   median {median:6.3f} s   ({rows / best:,.0f} rows/s)"


def main() -> None:
    args = parse_args()
    c.configure_environment(
        database_url=args.database_url, redis_url=args.redis_url, sandbox_url="http://127.0.0.1:9"
    )
    c.django_setup()
    kind = c.prepare_database(args.database_url)

    from django.test import Client

    from connect.services import csv_rows_validate
    from shipments.services import enqueue, shipments_ingest

    sent: list[tuple[str, tuple]] = []
    enqueue.publish = lambda name, *, args=(), queue, **options: sent.append((name, args))

    data = build_file(args.rows)
    times: dict[str, list[float]] = {k: [] for k in ("validate", "ingest", "request", "again")}
    times["ceiling"] = []
    answers = []
    for n in range(args.repeat):
        store, user = new_store(f"bench-csv-{n}")
        seconds, rows = timed(lambda s=store: csv_rows_validate(data=data, time_zone=s.tz))
        times["validate"].append(seconds)
        seconds, result = timed(
            lambda s=store, r=rows: shipments_ingest(store=s, rows=r, first_pull="run")
        )
        times["ingest"].append(seconds)
        assert len(result.created) == args.rows

        fresh, fresh_user = new_store(f"bench-csv-http-{n}")
        client = Client()
        client.force_login(fresh_user)

        def post(client: Client = client) -> Any:
            return client.post(
                "/app/shipments/import/",
                {"file": _upload(data)},
                HTTP_ACCEPT="application/json",
                secure=True,
            )

        seconds, response = timed(post)
        times["request"].append(seconds)
        answers.append((response.status_code, response.json()))
        seconds, again = timed(post)
        times["again"].append(seconds)
        answers.append((again.status_code, again.json()))

        raw, _ = new_store(f"bench-csv-raw-{n}")
        codes = carrier_codes(raw, rows)
        seconds, _ = timed(lambda s=raw, r=rows, k=codes: ceiling(s, r, k))
        times["ceiling"].append(seconds)

    print(f"command:  {c.command_line()}")
    print(f"database: {kind}, {args.rows:,} rows ({len(data) / 1024:,.0f} KiB), {args.repeat} runs")
    print(f"answers:  first {answers[0]}, again {answers[1]}")
    print(
        c.table(
            [
                figures("validate (no query)", times["validate"], args.rows),
                figures("ingest (orders, shipments, run)", times["ingest"], args.rows),
                figures("request: POST, created", times["request"], args.rows),
                figures("request: POST again, updated", times["again"], args.rows),
                figures("ceiling: raw bulk_create", times["ceiling"], args.rows),
            ]
        )
    )
    ratio = min(times["request"]) / min(times["ceiling"])
    print(f"  request / ceiling: {ratio:.1f}×; run dispatches recorded: {len(sent)}")


def _upload(data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("shipments.csv", data, "text/csv")


if __name__ == "__main__":
    main()
