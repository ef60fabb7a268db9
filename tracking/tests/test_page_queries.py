"""The public pages' database work stays flat (bench/tracking_page_load.py measures the rest):
the tracking page reads its version (one row: what the page depends on), then, when no rendering
of that version is cached, its shipment, order, store and the order's other shipments in one
query and the timeline in another; a cached view is the version alone. A shopper resync loads
no more of the shipment than it uses.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shipments.tests.fixtures import make_shipment

from .conftest import add_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_FRAGMENT": "timeline"}, {"HTTP_ACCEPT": "application/json"}],
    ids=["page", "fragment", "json"],
)
def test_the_tracking_page_costs_three_queries_then_one(
    client, tracked, headers, django_assert_num_queries, django_assert_max_num_queries
):
    make_shipment(tracked.store, order=tracked.order, carrier="ups")
    make_shipment(tracked.store, order=tracked.order, carrier="fedex")
    for i in range(8):
        add_event(tracked, hours_ago=10 - i, status="in_transit", description=f"Scan {i}")
    url = reverse("tracking:page", args=[tracked.public_token])
    with django_assert_num_queries(3):
        first = client.get(url, **headers)
    assert first.status_code == 200
    assert "Scan 7" in first.content.decode()
    with django_assert_max_num_queries(1):
        again = client.get(url, **headers)
    assert again.status_code == 200
    assert "Scan 7" in again.content.decode()


def test_a_shopper_resync_reads_the_shipment_once(client, tracked):
    url = reverse("tracking:resync", args=[tracked.public_token])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # One read, then the job and its audit row (savepoints aside: tests run in a transaction):
    # one statement for both on PostgreSQL (shipments/inserts.py).
    both = ["WITH"] if connection.vendor == "postgresql" else ["INSERT", "INSERT"]
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == ["SELECT", *both]
