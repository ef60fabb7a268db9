"""The merchant's webhooks pages: create (201 + secret once), list without secrets, 400s for bad
input and private addresses, rotate, redeliver, and another store's ids answering 404."""

from __future__ import annotations

import json

import pytest

from hooks import services
from hooks.models import AttemptState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shipments.carriers.statuses import Status
from shipments.tests.fixtures import make_shipment, make_store, make_user

from .helpers import make_endpoint, news

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
URL = "/app/settings/webhooks/"


def post_json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json", **JSON)


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (no network needed)."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host.endswith("example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_json_create_answers_201_with_the_secret_once(merchant_client, store, public_dns):
    answer = post_json(
        merchant_client,
        URL,
        {"url": "https://hooks.example.com/resync", "events": ["shipment.status_changed"]},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "secret"}
    assert body["secret"].startswith("whsec_")
    assert answer["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.store == store
    assert endpoint.events == ["shipment.status_changed"]

    listed = merchant_client.get(URL, **JSON)
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == body["id"]
    assert row["url"] == "https://hooks.example.com/resync"
    assert row["active"] is True
    assert body["secret"] not in listed.content.decode()
    page = merchant_client.get(URL).content.decode()
    assert body["secret"] not in page
    detail = merchant_client.get(f"{URL}{body['id']}/")
    assert body["secret"] not in detail.content.decode()
    assert body["secret"] not in merchant_client.get(f"{URL}{body['id']}/", **JSON).content.decode()


def test_the_html_form_shows_the_secret_on_its_answer_only(merchant_client, public_dns):
    page = merchant_client.post(
        URL,
        {"form": "endpoint", "url": "https://hooks.example.com/x", "events": ["shipment.updated"]},
    )
    secret = WebhookEndpoint.objects.get().secret
    assert page.status_code == 200
    assert secret in page.content.decode()
    assert secret not in merchant_client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "not a url", "events": ["shipment.updated"]}, "url"),
        ({"url": "ftp://hooks.example.com/", "events": ["shipment.updated"]}, "url"),
        ({"url": "http://127.0.0.1:9000/hook", "events": ["shipment.updated"]}, "url"),
        ({"url": "http://169.254.169.254/latest/", "events": ["shipment.updated"]}, "url"),
        ({"url": "http://[::ffff:10.0.0.1]/", "events": ["shipment.updated"]}, "url"),
        ({"url": "http://localhost/", "events": ["shipment.updated"]}, "url"),
        ({"url": "https://hooks.example.com/", "events": ["order.created"]}, "events"),
        ({"url": "https://hooks.example.com/", "events": []}, "events"),
        ({"url": "https://hooks.example.com/", "events": "shipment.updated"}, "events"),
    ],
)
def test_bad_input_and_private_addresses_answer_400(
    merchant_client, public_dns, settings, payload, field
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    answer = post_json(merchant_client, URL, payload)
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    assert answer.json()["fields"][field][0]
    assert not WebhookEndpoint.objects.exists()


def test_private_urls_are_accepted_when_allowed(merchant_client, private_urls_allowed):
    answer = post_json(merchant_client, URL, {"url": "http://127.0.0.1:9000/hook"})
    assert answer.status_code == 201
    assert WebhookEndpoint.objects.get().events == ["shipment.status_changed", "shipment.updated"]


def test_rotate_gives_a_new_secret_once(merchant_client, store):
    endpoint = make_endpoint(store, "https://hooks.example.com/")
    old = endpoint.secret
    answer = merchant_client.post(f"{URL}{endpoint.pk}/rotate/", **JSON)
    assert answer.status_code == 200
    new = answer.json()["secret"]
    assert new != old
    endpoint.refresh_from_db()
    assert endpoint.secret == new
    assert new not in merchant_client.get(f"{URL}{endpoint.pk}/").content.decode()
    page = merchant_client.post(f"{URL}{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret in page.content.decode()


def test_turning_off_and_on_and_deleting(merchant_client, store):
    endpoint = make_endpoint(store, "https://hooks.example.com/")
    answer = post_json(merchant_client, f"{URL}{endpoint.pk}/", {"active": False})
    assert answer.json()["active"] is False
    merchant_client.post(f"{URL}{endpoint.pk}/", {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert merchant_client.post(f"{URL}{endpoint.pk}/delete/", **JSON).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_the_redeliver_button(merchant_client, store, published):
    endpoint = make_endpoint(store, "https://hooks.example.com/")
    news(make_shipment(store), Status.IN_TRANSIT, "Departed")
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    page = merchant_client.get(f"{URL}{endpoint.pk}/").content.decode()
    assert str(delivery.uid) in page
    assert "Redeliver" in page

    answer = merchant_client.post(f"{URL}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert answer.status_code == 302
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.manual
    assert attempt.state == AttemptState.QUEUED
    log = merchant_client.get(f"{URL}{endpoint.pk}/", **JSON).json()["deliveries"]
    entry = next(d for d in log if d["id"] == delivery.pk)
    assert entry["event_id"] == str(delivery.uid)
    assert entry["log"][0]["manual"] is True


def test_a_redelivery_is_a_new_attempt_with_the_same_id(
    merchant_client,
    store,
    receiver,
    private_urls_allowed,
    published,
    django_capture_on_commit_callbacks,
):
    endpoint = make_endpoint(store, receiver.url, ["shipment.updated"])
    news(make_shipment(store), Status.IN_TRANSIT, "Departed")
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert services.webhook_delivery_send(delivery_id=delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        answer = merchant_client.post(
            f"{URL}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/", **JSON
        )
    assert answer.status_code == 202
    attempt_id = answer.json()["attempt_id"]
    assert (services.ATTEMPT_SEND, (attempt_id,), "interactive") in published
    assert services.webhook_attempt_send(attempt_id=attempt_id)
    assert not services.webhook_attempt_send(attempt_id=attempt_id)  # a redelivered message
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    numbers = list(WebhookAttempt.objects.order_by("number").values_list("number", "manual"))
    assert numbers == [(1, False), (2, True)]
    page = merchant_client.get(f"{URL}{endpoint.pk}/").content.decode()
    assert "HTTP 200" in page
    assert "by hand" in page


def test_another_stores_endpoints_and_deliveries_answer_404(merchant_client, store, published):
    other = make_store()
    theirs = make_endpoint(other, "https://hooks.example.com/theirs")
    news(make_shipment(other), Status.IN_TRANSIT, "Departed")
    delivery = WebhookDelivery.objects.filter(endpoint=theirs).first()
    mine = make_endpoint(store, "https://hooks.example.com/mine")
    for path in (f"{URL}{theirs.pk}/",):
        assert merchant_client.get(path).status_code == 404
        assert merchant_client.get(path, **JSON).status_code == 404
    for path in (
        f"{URL}{theirs.pk}/",
        f"{URL}{theirs.pk}/rotate/",
        f"{URL}{theirs.pk}/delete/",
        f"{URL}{theirs.pk}/deliveries/{delivery.pk}/redeliver/",
        f"{URL}{mine.pk}/deliveries/{delivery.pk}/redeliver/",
    ):
        assert post_json(merchant_client, path, {"active": False}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert theirs.secret == "whsec_test-secret"
    assert not WebhookAttempt.objects.exists()
    listed = merchant_client.get(URL, **JSON).json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]


def test_sign_in_required_and_nav_link(client, store):
    assert client.get(URL).status_code == 302
    client.force_login(make_user(store=store))
    page = client.get("/app/shipments/").content.decode()
    assert f'href="{URL}"' in page
