"""Sending in-process against a real HTTP receiver: signature, retries with the same id, order
per shipment, giving up after 24 h, turning an endpoint off after 3 days, and SSRF at delivery.

Time is injected (`now=`): the services take it, so no clock needs freezing. The receiver is
on 127.0.0.1, so these tests allow private URLs unless they test refusing them."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from django.utils import timezone

from hooks import services
from hooks.models import DeliveryState, WebhookAttempt, WebhookDelivery
from hooks.services import sending
from shipments.carriers.statuses import Status
from shipments.tests.fixtures import make_shipment, make_store

from .helpers import make_endpoint, news

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def drive(now: dt.datetime) -> list[int]:
    """What the beat's dispatcher and the workers do at `now`: send every due delivery."""
    due = services.deliveries_due(now=now)
    for pk in due:
        services.webhook_delivery_send(delivery_id=pk, now=now)
    return due


@pytest.fixture
def store(db):
    return make_store()


@pytest.fixture
def endpoint(store, receiver, private_urls_allowed, published):
    return make_endpoint(store, receiver.url, ["shipment.updated"])


def test_a_delivery_is_signed_and_verifiable_and_a_wrong_secret_is_not(endpoint, receiver):
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    assert drive(T0)
    (request,) = receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert receiver.verify(endpoint.secret, request)
    assert not receiver.verify("whsec_not-the-secret", request)
    # The signature is bound to the body and to t: change either and it no longer verifies.
    timestamp, mac = request.headers["Resync-Signature"].split(",")
    tampered = request.__class__(request.path, request.headers, request.body + b" ", request.at)
    assert not receiver.verify(endpoint.secret, tampered)
    later = dict(request.headers)
    later["Resync-Signature"] = f"t={int(timestamp[2:]) + 1},{mac}"
    moved = request.__class__(request.path, later, request.body, request.at)
    assert not receiver.verify(endpoint.secret, moved)
    body = json.loads(request.body)
    assert body["type"] == "shipment.updated"
    assert body["id"] == request.headers["Resync-Delivery"]


def test_500_twice_then_200_is_delivered_on_the_third_attempt_with_the_same_id(
    endpoint, receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    receiver.answers = [500, 500, 200]
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.all()

    assert drive(T0) == [delivery.pk]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    # Not before the backoff: base 1 s, then 2 s (plus up to a quarter of jitter).
    assert dt.timedelta(seconds=1) <= delivery.next_attempt_at - T0 <= dt.timedelta(seconds=1.25)
    assert drive(T0 + dt.timedelta(seconds=0.5)) == []
    assert drive(T0 + dt.timedelta(seconds=2)) == [delivery.pk]
    assert drive(T0 + dt.timedelta(seconds=10)) == [delivery.pk]

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 3)
    ids = {json.loads(r.body)["id"] for r in receiver.requests}
    assert ids == {str(delivery.uid)}
    assert len(receiver.requests) == 3
    assert all(receiver.verify(endpoint.secret, r) for r in receiver.requests)
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same bytes on every attempt
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 500), (3, 200)]
    assert log[0].response_snippet == "receiver is down"
    assert log[0].duration_ms is not None
    assert drive(T0 + dt.timedelta(hours=1)) == []  # delivered: nothing more


def test_the_first_retry_waits_the_base_delay_by_default():
    for attempt, low in ((1, 30), (2, 60), (3, 120), (20, 3600)):
        delay = services.retry_delay(attempt).total_seconds()
        assert low <= delay <= low * 1.25


def test_a_task_message_delivered_twice_sends_once(endpoint, receiver):
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.all()
    assert services.webhook_delivery_send(delivery_id=delivery.pk, now=T0)
    assert not services.webhook_delivery_send(delivery_id=delivery.pk, now=T0)
    assert len(receiver.requests) == 1


def test_order_per_shipment_and_endpoint_is_kept(endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    receiver.answers = [500]
    shipment, neighbour = make_shipment(endpoint.store), make_shipment(endpoint.store)
    news(shipment, Status.IN_TRANSIT, "Departed", now=T0)
    news(shipment, Status.IN_TRANSIT, "Arrived at hub", now=T0)
    first, second = WebhookDelivery.objects.filter(shipment=shipment).order_by("id")

    assert services.webhook_delivery_send(delivery_id=first.pk, now=T0)  # answered 500
    # The later one waits for the earlier one, even when asked directly …
    assert not services.webhook_delivery_send(delivery_id=second.pk, now=T0)
    assert services.deliveries_due(now=T0) == []
    # … while another shipment's news is not held up.
    news(neighbour, Status.IN_TRANSIT, "Departed", now=T0)
    assert len(drive(T0)) == 1
    drive(T0 + dt.timedelta(seconds=5))  # the earlier one, delivered; then the later one
    drive(T0 + dt.timedelta(seconds=5))

    described = [
        json.loads(r.body)["data"]["shipment"]["events"][0]["description"]
        for r in receiver.requests
        if json.loads(r.body)["data"]["shipment"]["id"] == shipment.pk
    ]
    assert described == ["Departed", "Departed", "Arrived at hub"]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_failing_for_24_hours_marks_the_delivery_failed(endpoint, receiver):
    receiver.answers = [500] * 100
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.all()
    now = T0
    while delivery.state == DeliveryState.PENDING:
        assert services.webhook_delivery_send(delivery_id=delivery.pk, now=now)
        delivery.refresh_from_db()
        now = delivery.next_attempt_at
    assert delivery.state == DeliveryState.FAILED
    assert delivery.finished_at >= T0 + services.RETRY_FOR
    assert 20 <= delivery.attempts <= 40  # backoff, not a retry a second
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.failing_since == T0


def test_failing_for_3_days_turns_the_endpoint_off_and_the_shipment_tab_says_so(
    endpoint, receiver, client, store
):
    from shipments.tests.fixtures import make_user

    receiver.answers = [500] * 100
    shipment = make_shipment(store)
    news(shipment, Status.IN_TRANSIT, "Departed", now=T0)
    drive(T0)
    news(shipment, Status.IN_TRANSIT, "Arrived at hub", now=T0 + dt.timedelta(days=2))
    drive(T0 + dt.timedelta(days=2))
    endpoint.refresh_from_db()
    assert endpoint.is_active  # failing for 2 days
    late = T0 + services.DISABLE_AFTER + dt.timedelta(minutes=1)
    news(shipment, Status.OUT_FOR_DELIVERY, "With the courier", now=late)
    drive(late)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at == late
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()

    client.force_login(make_user(store=store))
    page = client.get("/app/shipments/").content.decode()
    assert "data-webhooks-notice" in page
    assert endpoint.url in page
    # Turned on again by the merchant: the failures are forgotten, the notice goes.
    services.webhook_endpoint_update(store=store, endpoint_id=endpoint.pk, active=True)
    assert "data-webhooks-notice" not in client.get("/app/shipments/").content.decode()


def test_the_attempt_that_turns_the_endpoint_off_gives_up_its_own_delivery_too(endpoint, receiver):
    receiver.answers = [500]
    endpoint.failing_since = T0 - services.DISABLE_AFTER
    endpoint.save()
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    drive(T0)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED
    assert drive(T0 + dt.timedelta(hours=1)) == []


def test_a_success_clears_the_failing_clock(endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    receiver.answers = [500, 200]
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    drive(T0)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == T0
    drive(T0 + dt.timedelta(seconds=5))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_host_that_now_resolves_to_a_private_address_is_refused_at_delivery(
    store, receiver, monkeypatch, settings, published
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    port = receiver.url.split(":")[2].split("/")[0]
    answers = {"hooks.merchant.test": "93.184.216.34"}
    real = socket.getaddrinfo

    def fake_dns(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    endpoint = services.webhook_endpoint_create(
        store=store, url=f"http://hooks.merchant.test:{port}/hook", events=["shipment.updated"]
    )
    answers["hooks.merchant.test"] = "127.0.0.1"  # DNS changed since
    news(make_shipment(store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert services.webhook_delivery_send(delivery_id=delivery.pk, now=T0)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert attempt.error.startswith("refused")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING  # retried later: DNS may change back


def test_redirects_are_not_followed(endpoint, receiver):
    receiver.answers = [302]
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    drive(T0)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302
    assert attempt.error == "redirect not followed"
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


def test_the_dispatcher_publishes_due_deliveries(endpoint, published):
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    published.clear()
    assert services.webhook_deliveries_dispatch_due(now=timezone.now()) == 1
    assert [name for name, _args, _queue in published] == [services.DELIVERY_SEND]


def test_a_slow_receiver_is_never_sent_the_same_delivery_twice_at_once(
    endpoint, receiver, settings, monkeypatch
):
    # Timeouts set long: while one POST is still in flight five minutes on, another sender
    # finds the delivery claimed (a fixed 2-minute claim let it send a second copy).
    settings.WEBHOOK_READ_TIMEOUT = 300
    news(make_shipment(endpoint.store), Status.IN_TRANSIT, "Departed", now=T0)
    (delivery,) = WebhookDelivery.objects.all()
    others: list[bool] = []
    real_post = sending._post

    def slow_post(in_flight):
        later = T0 + dt.timedelta(minutes=5)
        others.append(services.webhook_delivery_send(delivery_id=in_flight.pk, now=later))
        return real_post(in_flight)

    monkeypatch.setattr(sending, "_post", slow_post)
    assert services.webhook_delivery_send(delivery_id=delivery.pk, now=T0)
    assert others == [False]
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
