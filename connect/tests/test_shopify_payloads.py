"""What Resync reads from Shopify's documented sample payloads."""

from __future__ import annotations

import datetime as dt

import pytest

from connect.shopify.payloads import BadPayload, parse_fulfillment, parse_order

from .shopify_helpers import sample


def test_an_order_is_its_name_its_email_and_its_fulfillments():
    order = parse_order(sample("orders_updated"))
    assert order.external_id == "820982911946154508"
    assert order.order_number == "#9999"
    assert order.email == "jon@example.com"
    assert order.customer_name == "John Smith"
    assert order.updated_at == dt.datetime(2022, 1, 2, 15, 30, tzinfo=dt.UTC)
    [fulfillment] = order.fulfillments
    assert fulfillment.tracking_numbers == ("1z827wk74630",)
    assert fulfillment.tracking_company == "UPS"
    assert fulfillment.order_external_id == order.external_id


@pytest.mark.parametrize(
    ("fields", "email"),
    [
        ({}, "jon@example.com"),
        ({"email": None}, "jon@example.com"),  # contact_email next
        ({"email": "", "contact_email": None}, "john@example.com"),  # then customer.email
        ({"email": None, "contact_email": None, "customer": None}, ""),
    ],
)
def test_the_email_falls_back_as_shopify_fills_it(fields, email):
    payload = sample("orders_create") | fields
    assert parse_order(payload).email == email


def test_a_fulfillment_belongs_to_its_order_not_to_its_own_name():
    fulfillment = parse_fulfillment(sample("fulfillments_create"))
    assert fulfillment.order_number == "#9999"  # not "#9999.1"
    assert fulfillment.created_at == dt.datetime(2022, 1, 1, 0, 0, tzinfo=dt.UTC)


def test_tracking_numbers_win_over_tracking_number_and_are_cleaned():
    payload = sample("fulfillments_create") | {
        "tracking_number": "IGNORED",
        "tracking_numbers": ["1Z 999 AA1 01 2345 6784", "1Z999AA10123456784", "", None, "LX1"],
    }
    assert parse_fulfillment(payload).tracking_numbers == ("1Z999AA10123456784", "LX1")
    only_one = sample("fulfillments_create") | {"tracking_numbers": [], "tracking_number": "A1"}
    assert parse_fulfillment(only_one).tracking_numbers == ("A1",)


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"name": "#1"}, {"id": True, "name": "#1"}, {"id": 1, "name": ""}],
)
def test_payloads_without_what_the_topic_needs_are_bad_not_a_crash(payload):
    with pytest.raises(BadPayload):
        parse_order(payload)
