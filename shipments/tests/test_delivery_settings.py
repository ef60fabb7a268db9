"""The store's delivery rule: its settings page (`/app/settings/delivery/`), the service, admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from shipments import services
from shipments.delivery import Span
from shipments.models import Store

pytestmark = pytest.mark.django_db

URL = "/app/settings/delivery/"
JSON = {"HTTP_ACCEPT": "application/json"}


def _set(store: Store, **fields) -> Store:
    values = {
        "processing_days": 1,
        "transit_days": "2-4",
        "transit_by_carrier": {},
        "business_days": "12345",
        "cutoff": None,
        **fields,
    }
    return services.store_delivery_rule_set(store=store, **values)


def test_a_store_has_no_rule_until_it_sets_transit_days(store):
    assert store.delivery_rule is None
    _set(store, transit_days="3", transit_by_carrier={"dhl": "1-2"}, cutoff="14:30")
    rule = Store.objects.get(pk=store.pk).delivery_rule
    assert rule.transit == Span(3, 3)
    assert rule.transit_for("dhl") == Span(1, 2)
    assert rule.transit_for("ups") == Span(3, 3)
    assert rule.cutoff == dt.time(14, 30)
    assert rule.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"transit_days": "soon"}, "delivery_transit_days"),
        ({"transit_days": "4-2"}, "delivery_transit_days"),
        ({"processing_days": "many"}, "delivery_processing_days"),
        ({"processing_days": -1}, "delivery_processing_days"),
        ({"business_days": "0"}, "delivery_business_days"),
        ({"business_days": []}, "delivery_business_days"),
        ({"cutoff": "25:00"}, "delivery_cutoff"),
        ({"transit_by_carrier": {"nope": "2"}}, "delivery_transit_by_carrier"),
        ({"transit_by_carrier": {"dhl": "x"}}, "delivery_transit_by_carrier"),
    ],
)
def test_a_bad_rule_is_refused_by_field_and_changes_nothing(store, fields, field):
    with pytest.raises(ValidationError) as caught:
        _set(store, **fields)
    assert field in caught.value.message_dict
    assert store.delivery_transit_days == ""  # the object too, not only the row
    assert Store.objects.get(pk=store.pk).delivery_rule is None


def test_the_page_saves_the_rule(merchant_client, store):
    page = merchant_client.get(URL)
    assert page.status_code == 200
    assert "Delivery estimates" in page.content.decode()
    response = merchant_client.post(
        URL,
        {
            "transit_days": "2-4",
            "processing_days": "1",
            "cutoff": "15:00",
            "business_days": ["1", "2", "3", "4", "5", "6"],
            "transit_dhl": "1",
            "transit_ups": "",
        },
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.delivery_transit_days, store.delivery_business_days) == ("2-4", "123456")
    assert store.delivery_transit_by_carrier == {"dhl": "1"}
    assert store.delivery_cutoff == dt.time(15, 0)
    assert "The delivery rule was saved." in merchant_client.get(URL).content.decode()


def test_the_page_shows_what_was_wrong(merchant_client, store):
    response = merchant_client.post(URL, {"transit_days": "a week", "business_days": ["1"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'value="a week"' in html  # what was typed stays in the field
    assert Store.objects.get(pk=store.pk).delivery_transit_days == ""


def test_json_reads_and_updates_the_rule(merchant_client, store):
    assert merchant_client.get(URL, **JSON).json() == {
        "active": False,
        "processing_days": 0,
        "transit_days": "",
        "transit_by_carrier": {},
        "business_days": "12345",
        "cutoff": None,
        "time_zone": "Europe/Berlin",
    }
    response = merchant_client.post(
        URL,
        {"transit_days": "3", "transit_by_carrier": {"ups": "2-3"}, "cutoff": "13:00"},
        content_type="application/json",
        **JSON,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert (body["transit_days"], body["transit_by_carrier"], body["cutoff"]) == (
        "3",
        {"ups": "2-3"},
        "13:00",
    )
    assert body["business_days"] == "12345"  # keys left out stay as they were


def test_json_errors_name_the_field(merchant_client, store):
    bad = merchant_client.post(URL, {"transit_days": "x"}, content_type="application/json", **JSON)
    assert bad.status_code == 400
    assert "delivery_transit_days" in bad.json()["fields"]
    broken = merchant_client.post(URL, "{not json", content_type="application/json", **JSON)
    assert broken.status_code == 400


def test_each_store_edits_its_own_rule(merchant_client, store, other_store):
    merchant_client.post(URL, {"transit_days": "5", "business_days": ["1", "2", "3", "4", "5"]})
    assert Store.objects.get(pk=other_store.pk).delivery_transit_days == ""
    assert Store.objects.get(pk=store.pk).delivery_transit_days == "5"


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_ops_edit_the_rule_in_admin(client, store):
    ops = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(ops)
    url = reverse("admin:shipments_store_change", args=[store.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for field in ("delivery_transit_days", "delivery_transit_by_carrier", "delivery_cutoff"):
        assert f'name="{field}"' in html
    form = {
        "name": store.name,
        "slug": store.slug,
        "time_zone": store.time_zone,
        "default_language": store.default_language,
        "accent_color": store.accent_color,
        "delivery_processing_days": "0",
        "delivery_transit_days": "2",
        "delivery_transit_by_carrier": '{"nope": "2"}',
        "delivery_business_days": "12345",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "carrier_mappings-TOTAL_FORMS": "0",
        "carrier_mappings-INITIAL_FORMS": "0",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200  # the form again, with the error
    assert "not a carrier code" in refused.content.decode()
    form["delivery_transit_by_carrier"] = '{"dhl": "1"}'
    assert client.post(url, form).status_code == 302
    store.refresh_from_db()
    assert store.delivery_rule.transit_for("dhl") == Span(1, 1)
