"""Carrier text on the tracking page: a bidi control it holds (stored as sent, SPEC §10) is shown
inside an isolating element, so that it cannot reorder the page's own text around it."""

from __future__ import annotations

from django.urls import reverse

from shipments.models import Shipment
from shipments.tests.test_carrier_text_pages import RLO, carrier_text_nodes

from .conftest import add_event


def test_timeline_isolates_carrier_text(client, tracked):
    add_event(
        tracked,
        hours_ago=2,
        status="in_transit",
        description=f"{RLO}buh eht ta devirrA",
        location=f"{RLO}gizpieL, DE",
    )
    Shipment.objects.filter(pk=tracked.pk).update(carrier_status_text=f"{RLO}yaw eht nO")

    response = client.get(reverse("tracking:page", args=[tracked.public_token]))

    assert response.status_code == 200
    nodes = carrier_text_nodes(response.content.decode())
    texts = {text for text, _ in nodes}
    assert {f"{RLO}buh eht ta devirrA", f"{RLO}gizpieL, DE", f"{RLO}yaw eht nO"} <= texts
    assert all(tags[-1] == "bdi" for _, tags in nodes), nodes


def test_an_aggregators_carrier_name_is_isolated(client, tracked):
    Shipment.objects.filter(pk=tracked.pk).update(
        carrier="17track", actual_carrier_name=f"{RLO}liaM layoR"
    )

    response = client.get(reverse("tracking:page", args=[tracked.public_token]))

    nodes = carrier_text_nodes(response.content.decode())
    assert f"{RLO}liaM layoR" in {text for text, _ in nodes}
    assert all(tags[-1] == "bdi" for _, tags in nodes), nodes
