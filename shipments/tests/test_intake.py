"""Shipments coming in: which carrier a shop's carrier name means, and the store's own names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from shipments import services
from shipments.carriers.numbers import example_number
from shipments.models import StoreCarrierMapping

from .fixtures import make_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UPS", "ups"),
        ("FedEx", "fedex"),
        ("USPS", "usps"),
        ("DHL Express", "dhl"),
        ("DHL eCommerce", "dhl"),
        ("  dhl   PARCEL ", "dhl"),
        ("Deutsche Post", "dhl"),
        ("17track", "17track"),
        ("AfterShip", "aftership"),
    ],
)
def test_the_names_shopify_uses_are_known(store, name, code):
    match = services.carrier_resolve(store=store, name=name, tracking_number="X1")
    assert (match.code, match.found_by) == (code, "catalogue")


def test_the_stores_own_names_come_next(store, other_store):
    services.store_carrier_mapping_set(store=store, name="Our DHL guy", carrier="dhl")
    match = services.carrier_resolve(store=store, name="our dhl  GUY", tracking_number="X1")
    assert (match.code, match.found_by) == ("dhl", "store_mapping")
    # Another store's names mean nothing here.
    assert services.carrier_resolve(store=other_store, name="Our DHL guy").code is None


def test_then_the_number_format_then_nothing(store):
    number = example_number("fedex", 7)
    match = services.carrier_resolve(store=store, name="Speedy Parcels Ltd", tracking_number=number)
    assert (match.code, match.found_by) == ("fedex", "number_format")
    assert services.carrier_resolve(store=store, tracking_number=number).code == "fedex"
    nothing = services.carrier_resolve(store=store, name="Speedy Parcels Ltd", tracking_number="Z9")
    assert (nothing.code, nothing.found_by) == (None, "nothing")


def test_a_mapping_is_replaced_not_doubled(store):
    first = services.store_carrier_mapping_set(store=store, name="Parcel Co", carrier="ups")
    again = services.store_carrier_mapping_set(store=store, name=" parcel  co ", carrier="usps")
    assert again.pk == first.pk
    assert StoreCarrierMapping.objects.get(store=store).carrier == "usps"


@pytest.mark.parametrize(
    ("name", "carrier", "field"),
    [
        ("   ", "dhl", "name"),
        ("x" * 101, "dhl", "name"),
        ("DHL Express", "ups", "name"),  # the catalogue already knows it: it would never be read
        ("Parcel Co", "sandbox", "carrier"),
        ("Parcel Co", "royal-mail", "carrier"),
    ],
)
def test_bad_mappings_are_refused_with_the_field_that_is_wrong(store, name, carrier, field):
    with pytest.raises(ValidationError) as refused:
        services.store_carrier_mapping_set(store=store, name=name, carrier=carrier)
    assert field in refused.value.message_dict
    assert not StoreCarrierMapping.objects.exists()


def test_deleting_touches_only_the_stores_own_mapping(store, other_store):
    mine = services.store_carrier_mapping_set(store=store, name="Parcel Co", carrier="ups")
    theirs = services.store_carrier_mapping_set(store=other_store, name="Parcel Co", carrier="dhl")
    assert services.store_carrier_mapping_delete(store=store, mapping_id=theirs.pk) is False
    assert services.store_carrier_mapping_delete(store=store, mapping_id=mine.pk) is True
    assert list(StoreCarrierMapping.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_the_database_keeps_one_name_per_store():
    store = make_store()
    StoreCarrierMapping.objects.create(store=store, name="Parcel Co", carrier="ups")
    with pytest.raises(IntegrityError):
        StoreCarrierMapping.objects.create(store=store, name="PARCEL  co", carrier="dhl")


def test_a_shop_domain_belongs_to_one_store():
    make_store(shop_domain="acme.myshopify.com")
    with pytest.raises(IntegrityError):
        make_store(shop_domain="acme.myshopify.com")


def test_a_form_is_told_of_a_name_the_store_already_has(store):
    """The admin's inline edits mappings through the model's own checks (its form has no
    `name_key`, so the database constraint alone would end in an error page)."""
    services.store_carrier_mapping_set(store=store, name="UPS Ground", carrier="ups")
    for name in ("ups  GROUND", "FedEx", "  "):
        with pytest.raises(ValidationError) as refused:
            StoreCarrierMapping(store=store, name=name, carrier="dhl").full_clean()
        assert "name" in refused.value.message_dict
    StoreCarrierMapping(store=store, name="Parcel Co", carrier="dhl").full_clean()
