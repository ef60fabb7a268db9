"""Carrier text on the merchant pages: a bidi control it holds (stored as sent, SPEC §10) is
shown inside an isolating element, so that it cannot reorder the text around it."""

from __future__ import annotations

import datetime as dt
import hashlib
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from shipments.models import Shipment, TrackingEvent

from .fixtures import make_shipment

pytestmark = pytest.mark.django_db

RLO = "\u202e"
VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base"}


class _Isolation(HTMLParser):
    """Each text node that holds `needle`, with the tags it sits in (innermost last)."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.stack: list[str] = []
        self.found: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.needle in data:
            self.found.append((data.strip(), list(self.stack)))


def carrier_text_nodes(html: str, needle: str = RLO) -> list[tuple[str, list[str]]]:
    parser = _Isolation(needle)
    parser.feed(html)
    return parser.found


def _event(shipment: Shipment, description: str, location: str) -> TrackingEvent:
    return TrackingEvent.objects.create(
        shipment=shipment,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        status="in_transit",
        description=description,
        location=location,
        fingerprint=hashlib.sha256(description.encode()).hexdigest(),
    )


@pytest.fixture
def poisoned(store) -> Shipment:
    shipment = make_shipment(
        store,
        status="in_transit",
        carrier_status_text=f"{RLO}tisnart nI",
        origin=f"{RLO}nnoB",
        destination=f"{RLO}nilreB",
    )
    _event(shipment, f"{RLO}buh eht ta devirrA", f"{RLO}gizpieL")
    return shipment


def test_list_isolates_carrier_text(merchant_client, store, poisoned):
    make_shipment(store, carrier="17track", actual_carrier_name=f"{RLO}liaM layoR")
    html = merchant_client.get("/app/shipments/").content.decode()

    nodes = carrier_text_nodes(html)
    texts = {text for text, _ in nodes}
    assert {f"{RLO}buh eht ta devirrA", f"{RLO}gizpieL"} <= texts
    assert any(text.startswith(f"{RLO}liaM layoR") for text in texts)  # via an aggregator
    assert all(tags[-1] == "bdi" for _, tags in nodes), nodes


def test_details_isolate_carrier_text(merchant_client, poisoned):
    html = merchant_client.get(f"/app/shipments/{poisoned.pk}/").content.decode()

    nodes = carrier_text_nodes(html)
    texts = {text for text, _ in nodes}
    assert {f"{RLO}buh eht ta devirrA", f"{RLO}gizpieL", f"{RLO}nnoB", f"{RLO}nilreB"} <= texts
    assert f"{RLO}tisnart nI" in texts
    assert all(tags[-1] == "bdi" for _, tags in nodes), nodes
