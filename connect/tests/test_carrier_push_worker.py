"""End to end: the carrier sandbox pushes, signed, to the running app; a real Celery worker
applies the push; the shopper's tracking page shows the new event — and the sandbox saw no
tracking request after the shipment's first pull (registration)."""

from __future__ import annotations

import copy

import pytest
import requests
from django.utils import timezone

from connect.models import CarrierPush
from shipments.carriers.numbers import example_number
from shipments.models import Shipment
from shipments.services import fetch, shipments_apply_results
from shipments.tests.fixtures import make_shipment, make_store
from shipments.tests.worker_fixtures import wait_for

from .push_helpers import AFTERSHIP_SECRET, SEVENTEENTRACK_KEY, push_secrets  # noqa: F401

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("push_secrets"),
]


def _first_pull(shipment: Shipment) -> None:
    """The shipment's first pull, as the schedule makes it: the adapter registers the number
    with 17TRACK (`register`) or creates the tracking at AfterShip (`POST /trackings`)."""
    outcome = fetch(shipment.carrier, [shipment.tracking_number])
    assert outcome.results, outcome.errors
    shipments_apply_results(shipments=[shipment], results=outcome.results, now=timezone.now())


@pytest.mark.parametrize(("carrier", "seed"), [("17track", 7101), ("aftership", 7102)])
def test_a_sandbox_push_reaches_the_tracking_page_without_a_pull(
    live_server, worker, sandbox, settings, carrier, seed
):
    settings.CARRIER_SANDBOX_URL = sandbox.url
    credentials = copy.deepcopy(settings.CARRIER_CREDENTIALS)
    credentials["aftership"]["api_key"] = "sandbox-aftership-api-key"
    settings.CARRIER_CREDENTIALS = credentials
    shipment = make_shipment(
        make_store(), carrier=carrier, tracking_number=example_number(carrier, seed)
    )
    _first_pull(shipment)
    page_url = f"{live_server.url}/track/{shipment.public_token}/"
    description = f"Pushed by {carrier}: on the delivery van"
    assert description not in requests.get(page_url, timeout=10).text

    sandbox.configure_push(
        live_server.url, seventeentrack_key=SEVENTEENTRACK_KEY, aftership_secret=AFTERSHIP_SECRET
    )
    try:
        before = sandbox.stats()
        added = sandbox.add_event(
            shipment.tracking_number,
            status="out_for_delivery",
            description=description,
            location="Reno, NV, US",
        )
        assert added["pushes"] == 1
        wait_for(lambda: description in requests.get(page_url, timeout=10).text, timeout=30)
    finally:
        sandbox.configure_push("")

    after = sandbox.stats()
    assert after["by_carrier"].get(carrier, 0) == before["by_carrier"].get(carrier, 0)
    assert after["numbers_requested"] == before["numbers_requested"]
    assert after["pushes"] == {f"{carrier}.200": 1}
    push = CarrierPush.objects.get(provider=carrier)
    assert push.state == "applied"
    assert push.attempts == 1
    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert shipment.push_seen_at is not None
