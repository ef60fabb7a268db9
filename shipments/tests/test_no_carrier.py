"""A shipment whose carrier nothing fits is kept, shown as "Needs carrier", and left out of pulls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from shipments import messages, selectors, services
from shipments.models import ResyncJob, Shipment

from .fixtures import make_shipment

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def uncarried(store) -> Shipment:
    return make_shipment(store, carrier=None, tracking_number="ZZ123456789")


@pytest.fixture(autouse=True)
def _record_publications(published):
    """Enqueued tasks are recorded, not sent."""


def test_the_shipment_tab_lists_it_as_needs_carrier_and_filters_it(
    merchant_client, store, uncarried
):
    carried = make_shipment(store, carrier="ups")
    page = merchant_client.get("/app/shipments/").content.decode()
    assert "Needs carrier" in page
    assert '<option value="none"' in page

    body = merchant_client.get("/app/shipments/?carrier=none", **JSON).json()
    assert [(row["id"], row["carrier"]) for row in body["results"]] == [(uncarried.pk, None)]
    every = merchant_client.get("/app/shipments/", **JSON).json()["results"]
    assert {row["id"] for row in every} == {uncarried.pk, carried.pk}


def test_its_details_say_needs_carrier_and_the_json_says_null(merchant_client, uncarried):
    html = merchant_client.get(f"/app/shipments/{uncarried.pk}/").content.decode()
    assert "Needs carrier" in html
    assert "None" not in html.split("<main", 1)[-1]
    body = merchant_client.get(f"/app/shipments/{uncarried.pk}/", **JSON).json()
    assert (body["carrier"], body["carrier_url"]) == (None, "")


def test_bulk_runs_and_their_counts_leave_it_out(store, uncarried):
    make_shipment(store, carrier="fedex")
    now = timezone.now()
    assert selectors.window_counts(store=store, now=now)["7d"] == 1
    verdict = services.store_bulk_resync(store=store, window="7d", source="merchant")
    assert verdict.run.total == 1
    chunks = services.sync_run_dispatch(run_id=verdict.run.pk)
    assert chunks == [("fedex", [s.pk for s in Shipment.objects.filter(carrier="fedex")])]


def test_the_schedule_leaves_it_out(store, uncarried):
    due = timezone.now() - dt.timedelta(minutes=1)
    carried = make_shipment(store, carrier="usps")
    Shipment.objects.update(next_sync_at=due)
    assert services.shipments_take_due(now=timezone.now()) == [("usps", [carried.pk])]


def test_a_resync_of_it_says_to_choose_a_carrier(store, uncarried):
    verdict = services.shipment_resync(shipment=uncarried, source="merchant")
    assert services.resync_job_execute(job_id=str(verdict.job.pk)) is None
    job = ResyncJob.objects.get(pk=verdict.job.pk)
    assert (job.state, job.message) == ("failed", str(messages.ERROR_MESSAGES["no_carrier"]))


def test_the_database_keeps_one_uncarried_row_per_number_and_never_an_empty_carrier(
    store, uncarried
):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_shipment(store, carrier=None, tracking_number=uncarried.tracking_number)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_shipment(store, carrier="", tracking_number="ZZ999")
    # The same number with a carrier is another shipment (the shop may name it later).
    make_shipment(store, carrier="dhl", tracking_number=uncarried.tracking_number)


def test_the_shoppers_page_says_the_carrier_is_not_known_yet(client, uncarried):
    url = f"/track/{uncarried.public_token}/"
    html = client.get(url).content.decode()
    assert "Not known yet" in html
    body = client.get(url, **JSON).json()
    assert (body["carrier"], body["carrier_url"]) == (None, None)


def test_a_shipment_without_a_carrier_never_expires(store, uncarried):
    long_ago = timezone.now() - dt.timedelta(days=90)
    carried = make_shipment(store, carrier="usps")
    Shipment.objects.update(last_synced_at=long_ago, shipped_at=long_ago, last_event_at=long_ago)
    assert services.shipments_expire_stale(now=timezone.now()) == 1
    statuses = dict(Shipment.objects.values_list("pk", "status"))
    assert (statuses[carried.pk], statuses[uncarried.pk]) == ("expired", "pending")


@pytest.mark.django_db(transaction=True)
def test_migration_0006_turns_an_empty_carrier_into_none():
    executor = MigrationExecutor(connection)
    before = [("shipments", "0005_store_shop_domain_and_carrier_mappings")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Store, Order = apps.get_model("shipments", "Store"), apps.get_model("shipments", "Order")
    OldShipment = apps.get_model("shipments", "Shipment")
    store = Store.objects.create(name="Old", slug="old-empty-carrier")
    order = Order.objects.create(
        store=store, order_number="#1", customer_email="a@example.com", placed_at=timezone.now()
    )
    empty = OldShipment.objects.create(
        store=store, order=order, carrier="", tracking_number="ZZ1", shipped_at=timezone.now()
    ).pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Shipment.objects.get(pk=empty).carrier is None
