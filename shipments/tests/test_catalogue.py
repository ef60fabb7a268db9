"""The carrier catalogue is the one list of carriers: everything else follows it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from shipments.carriers import catalogue, registry
from shipments.carriers.numbers import detect_carrier, example_number
from shipments.models import Carrier, Shipment
from shipments.services import schedule

ROOT = Path(__file__).resolve().parents[2]


def test_every_catalogue_carrier_has_its_adapter_settings_and_choice():
    assert [code for code, _ in Carrier.choices] == list(catalogue.CODES)
    for info in catalogue.CARRIERS:
        assert registry.get_adapter(info.code).code == info.code
        assert Carrier(info.code).label == info.name
        assert info.code in settings.CARRIER_API_BASE_URLS
        assert settings.CARRIER_RATE_LIMITS[info.code] > 0
        assert set(settings.CARRIER_CREDENTIALS[info.code]) == set(info.credentials)
        assert info.tracking_url.startswith("https://")
        assert "{number}" in info.tracking_url


def test_environment_names_come_from_the_catalogue():
    """`<PREFIX>_RATE_LIMIT` and `<PREFIX>_<CREDENTIAL>` are read for each catalogue entry."""
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CARRIER_RATE_LIMITS['17track'], s.CARRIER_CREDENTIALS['17track']['api_key'], "
        "s.CARRIER_API_BASE_URLS['ups'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings_test",
        "SEVENTEENTRACK_RATE_LIMIT": "7.5",
        "SEVENTEENTRACK_API_KEY": "k-from-env",
        "UPS_API_BASE_URL": "http://127.0.0.1:9",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["7.5", "k-from-env", "http://127.0.0.1:9"]


def test_the_sandbox_is_a_tool_not_a_carrier():
    assert "sandbox" not in Carrier.values
    assert "sandbox" in registry.codes()  # `manage.py track sandbox …` still answers
    assert catalogue.public_tracking_url("sandbox", "SBX1") is None
    with pytest.raises(ValueError, match="product carrier"):
        registry.register("dhl", object)


def test_expiry_and_detection_read_the_catalogue():
    assert {"dhl", "ups", "fedex"} == schedule.EXPRESS_CARRIERS
    for code in ("dhl", "ups", "fedex", "usps"):
        assert detect_carrier(example_number(code, 3)) == code


def test_public_links_quote_the_number():
    url = catalogue.public_tracking_url("ups", "1Z 9/9")
    assert url == "https://www.ups.com/track?loc=en_US&tracknum=1Z%209%2F9"


@pytest.mark.django_db(transaction=True)
def test_sandbox_shipments_move_to_a_real_carrier():
    """Migration 0004: a shipment on the old `sandbox` carrier moves to the carrier its number
    belongs to, else 17TRACK, else the next carrier free for that number in that store."""
    executor = MigrationExecutor(connection)
    before, after = (
        [("shipments", "0003_store_logo_https_only")],
        [("shipments", "0004_carriers_from_catalogue")],
    )
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Store, Order = apps.get_model("shipments", "Store"), apps.get_model("shipments", "Order")
    OldShipment = apps.get_model("shipments", "Shipment")
    store = Store.objects.create(name="Old", slug="old-sandbox")
    order = Order.objects.create(
        store=store,
        order_number="#1",
        customer_email="a@example.com",
        placed_at=dt.datetime.now(dt.UTC),
    )
    ups_number = example_number("ups", 1)

    def old(carrier: str, number: str) -> int:
        return OldShipment.objects.create(
            store=store,
            order=order,
            carrier=carrier,
            tracking_number=number,
            shipped_at=dt.datetime.now(dt.UTC),
        ).pk

    formatted = old("sandbox", ups_number)
    native = old("sandbox", "SBX000000000001")
    taken_elsewhere = old("17track", "SBX000000000002")
    clash = old("sandbox", "SBX000000000002")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    carriers = dict(OldShipment.objects.values_list("pk", "carrier"))
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # later migrations, for the next tests
    assert carriers[formatted] == "ups"
    assert carriers[native] == "17track"
    assert carriers[taken_elsewhere] == "17track"
    assert carriers[clash] == "dhl"  # 17TRACK already tracks that number in this store
    assert not Shipment.objects.filter(carrier="sandbox").exists()
    assert Shipment.objects.count() == 4
