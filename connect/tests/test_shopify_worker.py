"""End to end: Shopify's webhook to the running app, applied by a real Celery worker, and the
new shipment pulled from the carrier sandbox over HTTP — with no cooldown touched."""

from __future__ import annotations

import time

import pytest

from connect.models import ShopifyWebhook
from shipments import cooldowns
from shipments.carriers.numbers import example_number
from shipments.models import Shipment, TrackingEvent
from shipments.tests.fixtures import make_store
from shipments.tests.worker_fixtures import wait_for

from .shopify_helpers import SECRET, SHOP, post_webhook, sample

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_fulfillment_webhook_is_applied_and_pulled_by_the_worker(
    live_server, worker, sandbox, settings
):
    settings.SHOPIFY_API_SECRET = SECRET
    store = make_store(slug="shopify-e2e", name="Shopify E2E", shop_domain=SHOP)
    number = example_number("ups", 4242)
    payload = sample("orders_updated")
    payload["fulfillments"][0]["tracking_numbers"] = [number]
    payload["fulfillments"][0]["tracking_number"] = number

    started = time.perf_counter()
    response = post_webhook(live_server.url, "orders/updated", payload)
    answered = time.perf_counter() - started
    assert response.status_code == 200
    assert answered < 1.0

    webhook = wait_for(
        lambda: (w := ShopifyWebhook.objects.get(store=store)).state == "applied" and w
    )
    assert webhook.attempts == 1
    shipment = wait_for(
        lambda: (
            (s := Shipment.objects.filter(store=store).first())
            and s.last_synced_at is not None
            and s
        ),
        timeout=30,
    )
    assert shipment.carrier == "ups"
    assert shipment.last_sync_outcome == "ok", shipment.last_sync_error
    assert TrackingEvent.objects.filter(shipment=shipment).exists()
    assert shipment.status != "pending"
    # The first pull took no cooldown: the merchant's and the shopper's Resync stay available.
    assert cooldowns.shipment_retry_after(store.pk, shipment.pk) == 0
    # Pulled exactly once, over HTTP from the sandbox's UPS API.
    assert sandbox.stats()["numbers_requested"] == {"ups": 1}
