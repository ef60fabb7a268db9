from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from shipments.carriers.numbers import detect_carrier
from shipments.models import Membership, Order, Shipment, Store

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Store.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        Order.objects.count(),
        Shipment.objects.count(),
    )


def test_seed_demo_twice_gives_the_same_counts(capsys):
    call_command("seed_demo", shipments=30)
    first = _counts()
    tokens = set(Shipment.objects.values_list("public_token", flat=True))
    call_command("seed_demo", shipments=30)
    assert _counts() == first == (1, 2, 1, 30, 30)
    assert set(Shipment.objects.values_list("public_token", flat=True)) == tokens
    assert "30 shipments (0 new)" in capsys.readouterr().out


def test_seed_demo_builds_a_usable_demo_store():
    call_command("seed_demo", shipments=60)
    store = Store.objects.get(slug="demo")
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo")
    assert Membership.objects.filter(user=demo, store=store).exists()
    assert store.shop_domain == "demo-store.myshopify.com"  # webhooks from the demo shop land here
    shipments = list(Shipment.objects.filter(store=store))
    assert {s.carrier for s in shipments} == {"dhl", "ups", "fedex", "usps", "17track", "aftership"}
    # Numbers are well-formed for their carrier (the postal formats detect as postal).
    for s in shipments:
        if s.carrier in {"dhl", "ups", "fedex"}:
            assert detect_carrier(s.tracking_number) == s.carrier
    span = max(s.shipped_at for s in shipments) - min(s.shipped_at for s in shipments)
    assert 80 <= span.days <= 90
