"""A scan whose time came without an offset and whose place's zone is unknown is shown as the
carrier's wall clock, marked "local time" — never converted as if it were UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shipments import services
from shipments.carriers.base import TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status
from shipments.models import TrackingEvent
from shipments.tests.fixtures import make_shipment, make_store, make_user

pytestmark = pytest.mark.django_db


def test_an_unknown_zone_keeps_the_wall_clock_and_says_local_time(client):
    store = make_store(slug="ny-shop", name="NY", time_zone="America/New_York")
    shipment = make_shipment(store, carrier="dhl")
    wall = dt.datetime(2026, 11, 20, 21, 30)  # as the carrier printed it, no offset
    scan = TrackingEventData(
        wall.replace(tzinfo=dt.UTC),
        Status.IN_TRANSIT,
        "Arrived at facility",
        location="Somewhere, US",
        wall_clock=wall,
        time_zone_known=False,
    )
    result = TrackingResult(
        carrier="dhl", tracking_number=shipment.tracking_number, status=Status.IN_TRANSIT,
        events=(scan,),
    )  # fmt: skip
    services.shipments_apply_results(
        shipments=[shipment], results={shipment.tracking_number: result}, now=timezone.now()
    )
    event = TrackingEvent.objects.get(shipment=shipment)
    assert event.local_time_only

    page = client.get(shipment.get_tracking_url()).content.decode()
    assert "9:30\u202fp.m." in page or "21:30" in page  # not 4:30 p.m. (New York from UTC)
    assert "4:30" not in page
    assert "(local time)" in page

    client.force_login(make_user("ny-merchant", store=store))
    details = client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    assert "Fri 20 Nov 2026, 21:30" in details
    assert "(local time at the scan)" in details


def test_the_shoppers_again_at_clock_is_in_the_stores_zone(client):
    store = make_store(slug="tokyo-shop", name="Tokyo", time_zone="Asia/Tokyo")
    shipment = make_shipment(store, carrier="dhl")
    page = client.get(shipment.get_tracking_url()).content.decode()
    # resync.js formats "You can resync again at {time}" in this zone, as the page's times are.
    assert 'data-time-zone="Asia/Tokyo"' in page
