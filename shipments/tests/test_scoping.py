from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from resync_site.logging import ContextFilter, log_context

from .fixtures import make_shipment, make_user

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_merchant_pages_require_sign_in(client, shipment):
    for url in ("/app/shipments/", f"/app/shipments/{shipment.pk}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_sign_in_then_see_only_your_store(client, store, other_store):
    make_user("alice", store=store)
    mine = make_shipment(store)
    theirs = make_shipment(other_store)
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-123456"})
    assert response.status_code == 302
    listing = client.get(reverse("shipments:list")).content.decode()
    assert mine.tracking_number in listing
    assert theirs.tracking_number not in listing
    assert client.get(f"/app/shipments/{theirs.pk}/").status_code == 404
    assert client.get(f"/app/shipments/{mine.pk}/").status_code == 200


def test_user_without_a_store_gets_404(client, db):
    client.force_login(make_user("nobody"))
    assert client.get("/app/shipments/").status_code == 404


def test_log_lines_carry_the_ids_they_concern():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with log_context(store=3, run=12):
        ContextFilter().filter(record)
    assert record.context == "store=3 run=12"
    ContextFilter().filter(record)
    assert record.context == "-"
