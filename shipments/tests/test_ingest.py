"""The one service every way in ends in: orders and shipments created or updated in bulk, the
carrier mapped, never dropped, and the first pull published on commit (no cooldown touched)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipments import cooldowns, services
from shipments.carriers.numbers import example_number
from shipments.models import Order, RunState, Shipment, SyncRunItem
from shipments.services import Incoming, ingest
from shipments.services.enqueue import FIRST_PULLS_FLUSH, SYNC_RUN_DISPATCH

pytestmark = pytest.mark.django_db(transaction=True)


def first_pulls(published) -> list[tuple[str, list[int]]]:
    """What the flushes that were published would pull (the worker's half, run here)."""
    flushed = [args[0] for name, args, _queue in published if name == FIRST_PULLS_FLUSH]
    return [c for carrier in flushed for c in services.first_pulls_take(carrier=carrier)]


def _row(number: str, order: str = "#1001", **fields) -> Incoming:
    return Incoming(order_number=order, email="ann@example.com", tracking_number=number, **fields)


def test_new_shipments_are_stored_with_their_carrier_and_pulled_once(store, published):
    ups = example_number("ups", 1)
    result = services.shipments_ingest(
        store=store, rows=[_row(ups, carrier="UPS"), _row("ZZ-UNKNOWN-1", carrier="Speedy")]
    )
    assert len(result.created) == 2
    assert not result.updated
    by_number = {s.tracking_number: s for s in Shipment.objects.filter(store=store)}
    assert by_number[ups].carrier == "ups"
    assert by_number["ZZ-UNKNOWN-1"].carrier is None  # kept, needs a carrier
    assert Order.objects.get(store=store).customer_email == "ann@example.com"
    # One pull for the shipment with a carrier, on the bulk queue, outside any run.
    assert published == [(FIRST_PULLS_FLUSH, ("ups",), "bulk")]
    assert first_pulls(published) == [("ups", [by_number[ups].pk])]
    # No cooldown was taken: the merchant and the shopper can still resync it at once.
    assert cooldowns.shipment_retry_after(store.pk, by_number[ups].pk) == 0


def test_the_same_shipment_again_is_the_same_row_and_no_pull(store, published):
    ups = example_number("ups", 2)
    first = services.shipments_ingest(store=store, rows=[_row(ups, carrier="ups")])
    published.clear()
    again = services.shipments_ingest(store=store, rows=[_row(ups, carrier="UPS")])
    assert again.shipments[0].pk == first.shipments[0].pk
    assert again.updated == {first.shipments[0].pk}
    assert not again.created
    assert published == []
    assert Shipment.objects.filter(store=store).count() == 1


def test_a_carrierless_shipment_gets_its_carrier_when_the_shop_names_it(store, published):
    services.shipments_ingest(store=store, rows=[_row("PARCEL-77", carrier="Speedy")])
    services.store_carrier_mapping_set(store=store, name="Speedy", carrier="dhl")
    published.clear()
    result = services.shipments_ingest(store=store, rows=[_row("PARCEL-77", carrier="Speedy")])
    shipment = Shipment.objects.get(store=store)
    assert shipment.carrier == "dhl"
    assert result.shipments[0].pk == shipment.pk
    assert first_pulls(published) == [("dhl", [shipment.pk])]


def test_stores_never_share_rows(store, other_store, published):
    number = example_number("fedex", 3)
    a = services.shipments_ingest(store=store, rows=[_row(number)])
    b = services.shipments_ingest(store=other_store, rows=[_row(number)])
    assert a.shipments[0].pk != b.shipments[0].pk
    assert Order.objects.filter(order_number="#1001").count() == 2


def test_an_import_is_pulled_as_one_run_with_window_import(store, published, merchant):
    rows = [_row(example_number("usps", i), order=f"#{2000 + i}") for i in range(5)]
    rows.append(_row("NOBODY-KNOWS", order="#2999"))
    result = services.shipments_ingest(store=store, rows=rows, first_pull="run", user=merchant)
    run = result.run
    assert run is not None
    assert run.window == "import"
    assert run.state == RunState.QUEUED
    assert run.total == 5  # the carrier-less one is not pulled
    assert SyncRunItem.objects.filter(run=run).count() == 5
    assert published == [(SYNC_RUN_DISPATCH, (run.pk,), "bulk")]
    # An import's run is not a bulk request: the store's hourly cooldown is untouched.
    assert cooldowns.bulk_retry_after(store.pk) == 0


def test_the_queries_do_not_grow_with_the_rows(store, published):
    def queries(n: int, offset: int) -> int:
        rows = [
            _row(example_number("dhl", offset + i), order=f"#{offset + i}", carrier="DHL Express")
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            services.shipments_ingest(store=store, rows=rows)
        return len(ctx.captured_queries)

    # Batched writes (SQLite takes ~30 shipments per INSERT, fewer as columns are added), never
    # a query per row: 600 rows cost a few dozen queries, not hundreds.
    few, many = queries(30, 20_000), queries(600, 10_000)
    assert few <= 12
    assert many <= few + 600 // 25


def test_a_cancelled_shipment_leaves_the_schedule_until_sent_again(store, published):
    number = example_number("ups", 9)
    [shipment] = services.shipments_ingest(store=store, rows=[_row(number)]).shipments
    assert first_pulls(published) == [("ups", [shipment.pk])]
    now = timezone.now()
    assert services.shipments_cancel(store=store, shipment_ids=[shipment.pk], now=now) == 1
    shipment.refresh_from_db()
    assert shipment.is_cancelled
    assert shipment.next_sync_at is None
    assert services.shipments_take_due(now=now + dt.timedelta(days=1)) == []
    published.clear()
    services.shipments_ingest(store=store, rows=[_row(number)])
    shipment.refresh_from_db()
    assert not shipment.is_cancelled
    assert first_pulls(published) == [("ups", [shipment.pk])]


def test_first_pulls_of_many_deliveries_are_gathered_into_carrier_batches(store, published):
    # 90 shipments arriving one webhook (one ingest) at a time.
    ids = []
    for i in range(90):
        carrier = "17track" if i % 2 else "fedex"
        number = example_number(carrier, 500 + i)
        [shipment] = services.shipments_ingest(
            store=store, rows=[_row(number, order=f"#{700 + i}", carrier=carrier)]
        ).shipments
        ids.append(shipment.pk)
    # One flush per carrier is published, however many shipments came in ...
    assert sorted(published) == [
        (FIRST_PULLS_FLUSH, ("17track",), "bulk"),
        (FIRST_PULLS_FLUSH, ("fedex",), "bulk"),
    ]
    # ... and it pulls them in chunks of the carrier's batch size, each shipment once.
    chunks = first_pulls(published)
    assert sorted(pk for _carrier, pks in chunks for pk in pks) == sorted(ids)
    assert [len(pks) for carrier, pks in chunks if carrier == "17track"] == [40, 5]
    assert first_pulls(published) == []  # taken: a second flush finds nothing


def test_a_shipment_arriving_after_the_flush_took_its_set_gets_a_flush_of_its_own(store, published):
    services.shipments_ingest(store=store, rows=[_row(example_number("usps", 1), order="#1")])
    assert len(first_pulls(published)) == 1
    published.clear()
    services.shipments_ingest(store=store, rows=[_row(example_number("usps", 2), order="#2")])
    assert published == [(FIRST_PULLS_FLUSH, ("usps",), "bulk")]


def test_a_number_stored_meanwhile_by_another_way_in_is_kept_not_doubled(
    store, published, monkeypatch
):
    ups = [example_number("ups", 900 + i) for i in range(3)]
    real_match = ingest._match
    raced: list[Shipment] = []

    def match_then_race(candidates, code, explicit):
        found = real_match(candidates, code, explicit)
        if not raced:  # another webhook stores the second number after we looked
            order = Order.objects.create(
                store=store,
                order_number="#RACE",
                customer_email="x@example.com",
                placed_at=timezone.now(),
            )
            raced.append(
                Shipment.objects.create(
                    store=store,
                    order=order,
                    carrier="ups",
                    tracking_number=ups[1],
                    shipped_at=timezone.now(),
                )
            )
        return found

    monkeypatch.setattr(ingest, "_match", match_then_race)
    result = services.shipments_ingest(store=store, rows=[_row(n, carrier="ups") for n in ups])
    assert Shipment.objects.filter(store=store).count() == 3
    assert result.shipments[1].pk == raced[0].pk
    assert all(s.pk is not None for s in result.shipments)
    assert sorted(s.tracking_number for s in result.shipments) == sorted(ups)
