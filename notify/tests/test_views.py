"""The merchant's settings page (HTML and JSON, one store only, the test e-mail) and the
shopper's unsubscribe link (signed, no sign-in, one click)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from notify.content import unsubscribe_token, unsubscribe_url
from notify.models import NotificationSettings, OrderUnsubscribe, ShopperEmail
from notify.services.publishing import SHOPPER_EMAIL_SEND
from shipments.tests.fixtures import make_shipment, make_user

from .helpers import apply

pytestmark = pytest.mark.django_db

URL = "/app/settings/notifications/"
JSON = {"HTTP_ACCEPT": "application/json"}
DEFAULTS = [
    "in_transit",
    "out_for_delivery",
    "failed_attempt",
    "available_for_pickup",
    "delivered",
    "exception",
]


def _post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json", **JSON)


def test_settings_need_a_signed_in_merchant(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_settings_json_shows_the_defaults_then_saves_a_choice(merchant_client, store):
    assert merchant_client.get(URL, **JSON).json() == {"enabled": True, "statuses": DEFAULTS}

    response = _post_json(merchant_client, URL, {"enabled": False, "statuses": ["delivered"]})
    assert response.status_code == 200
    assert response.json() == {"enabled": False, "statuses": ["delivered"]}
    assert merchant_client.get(URL, **JSON).json() == {"enabled": False, "statuses": ["delivered"]}
    row = NotificationSettings.objects.get(store=store)
    assert (row.enabled, row.statuses) == (False, ["delivered"])


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": True, "statuses": ["delivered", "teleported"]},
        {"enabled": "yes", "statuses": []},
        {"enabled": True, "statuses": "delivered"},
        ["delivered"],
    ],
)
def test_settings_json_refuses_what_it_does_not_know(merchant_client, store, body):
    response = _post_json(merchant_client, URL, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not NotificationSettings.objects.filter(store=store).exists()


def test_unknown_status_error_names_it(merchant_client):
    response = _post_json(merchant_client, URL, {"enabled": True, "statuses": ["teleported"]})
    assert "teleported" in response.json()["error"]
    assert "statuses" in response.json()["fields"]


def test_settings_page_html_form_saves(merchant_client, store):
    page = merchant_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Send me a test e-mail" in html
    assert 'value="delivered" checked' in html
    assert f'href="{URL}"' in html  # the merchant nav links it

    response = merchant_client.post(URL, {"enabled": "on", "statuses": ["exception", "delivered"]})
    assert response.status_code == 302
    assert merchant_client.get(URL, **JSON).json() == {
        "enabled": True,
        "statuses": ["delivered", "exception"],
    }
    merchant_client.post(URL, {"statuses": ["delivered"]})  # the box unticked: off
    assert merchant_client.get(URL, **JSON).json()["enabled"] is False


def test_another_stores_settings_are_never_seen_or_changed(client, store, other_store):
    NotificationSettings.objects.create(store=other_store, enabled=False, statuses=["delivered"])
    outsider = make_user("outsider", store=other_store)
    client.force_login(make_user("insider", store=store))
    assert client.get(URL, **JSON).json() == {"enabled": True, "statuses": DEFAULTS}
    _post_json(client, URL, {"enabled": True, "statuses": ["exception"]})
    other = NotificationSettings.objects.get(store=other_store)
    assert (other.enabled, other.statuses) == (False, ["delivered"])
    client.force_login(outsider)
    assert client.get(URL, **JSON).json() == {"enabled": False, "statuses": ["delivered"]}


def test_the_test_email_goes_through_the_send_task(
    merchant_client, merchant, store, published, django_capture_on_commit_callbacks
):
    merchant.email = "owner@acme.test"
    merchant.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"{URL}test/", **JSON)
    assert response.status_code == 202
    email = ShopperEmail.objects.get()
    assert (email.to_email, email.is_test, email.store_id) == ("owner@acme.test", True, store.pk)
    assert published == [(SHOPPER_EMAIL_SEND, (str(email.pk),), "interactive")]


def test_the_test_email_renders_and_goes_out_over_smtp(merchant, store, smtp, mailbox):
    from notify import services, tasks

    email = services.store_test_email_send(store=store, to_email="owner@acme.test")
    tasks.shopper_email_send(str(email.pk))
    (message,) = mailbox.messages
    assert message["Subject"].startswith("[Test] ")
    assert "sample parcel" in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe"] is None


def test_the_test_email_says_so_when_the_user_has_no_address(merchant_client, published):
    response = merchant_client.post(f"{URL}test/", **JSON)
    assert response.status_code == 400
    assert "no e-mail address" in response.json()["error"]
    page = merchant_client.post(f"{URL}test/", follow=True)
    assert "no e-mail address" in page.content.decode()
    assert not ShopperEmail.objects.exists()


# --- Unsubscribe -----------------------------------------------------------------------------


@pytest.fixture
def shipment(store):
    return make_shipment(store)


def _path(order_id: int) -> str:
    return reverse("notify:unsubscribe", args=[unsubscribe_token(order_id)])


def test_the_link_shows_a_confirm_page_then_unsubscribes_the_order(client, shipment):
    assert unsubscribe_url(shipment.order_id).startswith("http://resync.test/notify/unsubscribe/")
    page = client.get(_path(shipment.order_id))
    assert page.status_code == 200
    assert "Stop these e-mails" in page.content.decode()
    assert not OrderUnsubscribe.objects.exists()

    csrf_client = client.__class__(enforce_csrf_checks=True)
    page = csrf_client.get(_path(shipment.order_id))
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(_path(shipment.order_id), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert OrderUnsubscribe.objects.filter(order_id=shipment.order_id).exists()


def test_one_click_post_without_csrf_unsubscribes_and_cancels_unsent_emails(shipment):
    from django.test import Client

    apply((shipment, "in_transit"))
    assert ShopperEmail.objects.get().state == "pending"
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(shipment.order_id),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert ShopperEmail.objects.get().state == "cancelled"
    apply((shipment, "delivered"))  # no more rows for this order
    assert ShopperEmail.objects.count() == 1
    # Again: still fine.
    assert client.post(_path(shipment.order_id)).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["nonsense", "MQ:1xXn6o:forgedsignatureforgedsignatureforgedsig", "12345"],
)
def test_a_bad_or_forged_token_is_404(client, shipment, token):
    response = client.get(f"/notify/unsubscribe/{token}/")
    assert response.status_code == 404
    assert client.post(f"/notify/unsubscribe/{token}/").status_code == 404
    assert not OrderUnsubscribe.objects.exists()


def test_json_clients_get_json_answers(client, shipment):
    assert client.get("/notify/unsubscribe/nonsense/", **JSON).json()["error"]
    assert client.get(_path(shipment.order_id), **JSON).json() == {"unsubscribed": False}
    assert client.post(_path(shipment.order_id), **JSON).json() == {"unsubscribed": True}
    assert client.get(_path(shipment.order_id), **JSON).json() == {"unsubscribed": True}


def test_deeply_nested_json_is_a_400(merchant_client):
    assert _post_json(merchant_client, URL, None).status_code == 400
    deep = "[" * 100_000 + "]" * 100_000
    response = merchant_client.post(URL, deep, content_type="application/json", **JSON)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_token_made_with_another_salt_is_refused(client, shipment):
    from django.core import signing

    token = signing.dumps(shipment.order_id)  # no salt: not ours
    assert client.get(f"/notify/unsubscribe/{token}/").status_code == 404
