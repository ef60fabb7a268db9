"""The merchant's page for the store's own carrier names (`/app/settings/carriers/`)."""

from __future__ import annotations

import pytest

from shipments import services
from shipments.models import StoreCarrierMapping

from .fixtures import make_user

pytestmark = pytest.mark.django_db

URL = "/app/settings/carriers/"
JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_name_added_on_the_page_is_listed_and_used(merchant_client, store):
    response = merchant_client.post(URL, {"name": "Our DHL courier", "carrier": "dhl"})
    assert response.status_code == 302
    page = merchant_client.get(URL).content.decode()
    assert "Our DHL courier" in page
    assert "now means DHL" in page  # the confirmation, once
    match = services.carrier_resolve(store=store, name="our dhl courier", tracking_number="Z1")
    assert (match.code, match.found_by) == ("dhl", "store_mapping")


def test_json_adds_and_lists(merchant_client, store):
    response = merchant_client.post(
        URL, {"name": "Parcel Co", "carrier": "ups"}, content_type="application/json", **JSON
    )
    assert response.status_code == 201
    created = response.json()
    assert (created["name"], created["carrier"]) == ("Parcel Co", "ups")
    assert merchant_client.get(URL, **JSON).json() == {"results": [created]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "carrier": "ups"}, "name"),
        ({"name": "DHL Express", "carrier": "ups"}, "name"),
        ({"name": "Parcel Co", "carrier": "sandbox"}, "carrier"),
        ({"name": "Parcel Co"}, "carrier"),
    ],
)
def test_bad_input_is_400_with_the_field_and_stores_nothing(merchant_client, fields, field):
    as_json = merchant_client.post(URL, fields, content_type="application/json", **JSON)
    assert as_json.status_code == 400
    assert field in as_json.json()["fields"]
    page = merchant_client.post(URL, fields)
    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.content.decode()
    assert not StoreCarrierMapping.objects.exists()


def test_remove_is_for_the_stores_own_names_only(merchant_client, store, other_store):
    mine = services.store_carrier_mapping_set(store=store, name="Parcel Co", carrier="ups")
    theirs = services.store_carrier_mapping_set(store=other_store, name="Parcel Co", carrier="dhl")
    assert merchant_client.post(f"{URL}{theirs.pk}/delete/").status_code == 404
    assert merchant_client.post(f"{URL}{mine.pk}/delete/", **JSON).status_code == 204
    assert list(StoreCarrierMapping.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert merchant_client.get(f"{URL}{theirs.pk}/delete/").status_code == 405


def test_another_stores_names_are_not_shown(client, store, other_store):
    services.store_carrier_mapping_set(store=other_store, name="Secret Co", carrier="dhl")
    client.force_login(make_user("someone", store=store))
    assert "Secret Co" not in client.get(URL).content.decode()
    assert client.get(URL, **JSON).json() == {"results": []}


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
