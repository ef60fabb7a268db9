"""Shopify webhooks over real HTTP to the running app: signature, shop, dedupe, mapping, order.

The app answers from `live_server`; publications are recorded (`published`) and the worker's
half is run here by calling the task's service, so each step can be looked at. The real worker
is in test_shopify_worker.py.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connect.models import ShopifyWebhook
from connect.services import shopify as shopify_service
from connect.services.shopify import SHOPIFY_WEBHOOK_APPLY, shopify_webhook_apply
from shipments import services
from shipments.models import Order, Shipment, Store, TrackingEvent
from shipments.services.enqueue import FIRST_PULLS_FLUSH, SYNC_CHUNK
from shipments.tests.fixtures import make_store, make_user

from .shopify_helpers import SECRET, SHOP, post_webhook, sample

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(settings) -> Store:
    settings.SHOPIFY_API_SECRET = SECRET
    return make_store(slug="acme-shopify", name="Acme Shopify", shop_domain=SHOP)


def apply_all() -> list[str]:
    """The worker's half: apply every pending webhook, oldest first."""
    pending = ShopifyWebhook.objects.filter(state="pending").order_by("received_at", "pk")
    return [shopify_webhook_apply(webhook_pk=pk) for pk in pending.values_list("pk", flat=True)]


def send(live_server, topic: str, payload, **kwargs):
    response = post_webhook(live_server.url, topic, payload, **kwargs)
    return response


def test_a_signed_order_with_a_fulfillment_becomes_a_tracked_shipment(live_server, shop, published):
    started = time.perf_counter()
    response = send(live_server, "orders/updated", sample("orders_updated"))
    assert response.status_code == 200
    assert time.perf_counter() - started < 1.0
    # Recorded before answering, applied on a worker.
    webhook = ShopifyWebhook.objects.get(store=shop)
    assert webhook.state == "pending"
    assert (SHOPIFY_WEBHOOK_APPLY, (webhook.pk,), "bulk") in published

    assert apply_all() == ["applied"]
    order = Order.objects.get(store=shop)
    assert (order.order_number, order.customer_email) == ("#9999", "jon@example.com")
    shipment = Shipment.objects.get(store=shop)
    assert shipment.order == order
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1z827wk74630")
    assert shipment.shipped_at.isoformat() == "2022-01-02T15:29:00+00:00"
    # Pulled once at once, on the bulk queue, outside any run and cooldown.
    assert (FIRST_PULLS_FLUSH, ("ups",), "bulk") in published
    assert services.first_pulls_take(carrier="ups") == [("ups", [shipment.pk])]


def test_a_wrong_or_missing_signature_is_401_and_stores_nothing(live_server, shop, published):
    body = sample("orders_updated")
    assert send(live_server, "orders/updated", body, hmac="bm9wZQ==").status_code == 401
    assert send(live_server, "orders/updated", body, hmac="").status_code == 401
    assert (
        send(live_server, "orders/updated", body, secret="another-apps-secret").status_code == 401
    )
    assert ShopifyWebhook.objects.count() == 0
    assert Order.objects.count() == 0
    assert published == []


def test_an_unknown_or_disconnected_shop_is_404_and_stores_nothing(live_server, shop, published):
    other = "someone-else.myshopify.com"
    assert (
        send(live_server, "orders/create", sample("orders_create"), shop=other).status_code == 404
    )
    assert send(live_server, "app/uninstalled", sample("app_uninstalled")).status_code == 200
    shop.refresh_from_db()
    assert shop.shop_disconnected_at is not None
    before = ShopifyWebhook.objects.count()
    assert send(live_server, "orders/create", sample("orders_create")).status_code == 404
    assert ShopifyWebhook.objects.count() == before


def test_uninstalling_keeps_the_stores_data(live_server, shop, published):
    send(live_server, "orders/updated", sample("orders_updated"))
    apply_all()
    send(live_server, "app/uninstalled", sample("app_uninstalled"))
    assert Shipment.objects.filter(store=shop).count() == 1
    assert Order.objects.filter(store=shop).count() == 1


def test_a_webhook_id_seen_before_changes_nothing_whatever_its_body(live_server, shop, published):
    first = send(live_server, "orders/updated", sample("orders_updated"), webhook_id="dup-1")
    assert first.json()["duplicate"] is False
    apply_all()
    changed = sample("orders_updated")
    changed["fulfillments"][0]["tracking_numbers"] = ["CHANGED-123"]
    changed["updated_at"] = changed["fulfillments"][0]["updated_at"] = "2023-01-01T00:00:00Z"
    again = send(live_server, "orders/updated", changed, webhook_id="dup-1")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert apply_all() == []
    assert ShopifyWebhook.objects.count() == 1
    assert list(Shipment.objects.values_list("tracking_number", flat=True)) == ["1z827wk74630"]


def test_two_copies_at_once_are_stored_once(live_server, shop, published):
    barrier = threading.Barrier(4)
    answers: list[int] = []

    def deliver() -> None:
        barrier.wait()
        response = send(live_server, "orders/updated", sample("orders_updated"), webhook_id="twin")
        answers.append(response.status_code)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200, 200, 200]
    assert ShopifyWebhook.objects.filter(webhook_id="twin").count() == 1
    assert apply_all() == ["applied"]
    assert Shipment.objects.count() == 1


def _fulfillment(number: str, updated_at: str, **fields) -> dict:
    payload = sample("fulfillments_update") | {"updated_at": updated_at, **fields}
    payload["tracking_numbers"] = [number]
    payload["tracking_number"] = number
    return payload


def test_an_older_update_after_a_newer_one_changes_nothing(live_server, shop, published):
    send(live_server, "fulfillments/update", _fulfillment("NEW-NUMBER-2", "2022-01-03T00:00:00Z"))
    apply_all()
    send(live_server, "fulfillments/create", _fulfillment("OLD-NUMBER-1", "2022-01-01T00:00:00Z"))
    apply_all()
    assert list(Shipment.objects.values_list("tracking_number", flat=True)) == ["NEW-NUMBER-2"]
    # The order was made from the fulfillment: named after the order, not "#9999.1".
    assert Order.objects.get().order_number == "#9999"


def test_the_order_arriving_after_its_fulfillment_fills_it_in(live_server, shop, published):
    send(live_server, "fulfillments/create", sample("fulfillments_create"))
    send(live_server, "orders/create", sample("orders_create"))
    apply_all()
    order = Order.objects.get()
    assert order.customer_name == "John Smith"
    assert order.external_id == "820982911946154508"
    assert Shipment.objects.get().order == order


def test_a_changed_tracking_number_replaces_its_shipment(live_server, shop, published):
    send(
        live_server,
        "fulfillments/create",
        _fulfillment("1Z999AA10123456784", "2022-01-01T00:00:00Z"),
    )
    apply_all()
    shipment = Shipment.objects.get()
    TrackingEvent.objects.create(
        shipment=shipment, occurred_at=timezone.now(), status="in_transit", fingerprint="old"
    )
    token = shipment.public_token
    published.clear()
    send(
        live_server,
        "fulfillments/update",
        _fulfillment("1Z999AA10123456791", "2022-01-02T00:00:00Z"),
    )
    apply_all()
    replaced = Shipment.objects.get()
    assert replaced.pk == shipment.pk
    assert replaced.public_token == token  # the shopper's link still works
    assert replaced.tracking_number == "1Z999AA10123456791"
    assert replaced.status == "pending"
    assert not TrackingEvent.objects.filter(shipment=replaced).exists()  # the old number's
    assert (SYNC_CHUNK, (None, "ups", [replaced.pk]), "bulk") in published


def test_a_cancelled_fulfillment_leaves_the_schedule_and_the_tracking_page(
    live_server, shop, published, client
):
    send(live_server, "fulfillments/create", sample("fulfillments_create"))
    apply_all()
    shipment = Shipment.objects.get()
    assert client.get(shipment.get_tracking_url()).status_code == 200
    cancelled = sample("fulfillments_update") | {
        "status": "cancelled",
        "updated_at": "2022-01-05T00:00:00Z",
    }
    send(live_server, "fulfillments/update", cancelled)
    apply_all()
    shipment.refresh_from_db()
    assert shipment.is_cancelled
    assert shipment.next_sync_at is None
    assert client.get(shipment.get_tracking_url()).status_code == 404
    assert services.shipments_take_due(now=timezone.now() + timezone.timedelta(days=2)) == []


def test_an_unknown_carrier_name_keeps_the_shipment_without_a_carrier(live_server, shop, published):
    odd = _fulfillment("PARCEL-0001", "2022-01-01T00:00:00Z", tracking_company="Bob's Vans")
    send(live_server, "fulfillments/create", odd)
    apply_all()
    assert Shipment.objects.get().carrier is None  # kept: "Needs carrier"
    # The merchant names it; the next change of the fulfillment gets the carrier.
    services.store_carrier_mapping_set(store=shop, name="Bob's Vans", carrier="dhl")
    later = _fulfillment("PARCEL-0001", "2022-01-02T00:00:00Z", tracking_company="Bob's Vans")
    send(live_server, "fulfillments/update", later)
    apply_all()
    assert Shipment.objects.get().carrier == "dhl"


def test_stores_only_see_their_own_shops_webhooks(live_server, shop, published):
    other = make_store(slug="other-shop", name="Other", shop_domain="other-shop.myshopify.com")
    send(live_server, "orders/updated", sample("orders_updated"), shop="other-shop.myshopify.com")
    apply_all()
    assert Shipment.objects.filter(store=other).count() == 1
    assert Shipment.objects.filter(store=shop).count() == 0


def test_bad_bodies_are_clear_4xx_never_500(live_server, shop, published):
    assert send(live_server, "orders/create", b"{not json").status_code == 400
    assert send(live_server, "orders/create", b"[" * 100_000 + b"]" * 100_000).status_code == 400
    big = b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    assert send(live_server, "orders/create", big).status_code == 413
    # Valid JSON that is not an order: accepted (Shopify would retry a 4xx forever), then
    # recorded as failed with the reason, and nothing else changes.
    assert send(live_server, "orders/create", {"hello": "world"}).status_code == 200
    assert apply_all() == ["failed"]
    assert "id is missing" in ShopifyWebhook.objects.get(state="failed").error
    assert Order.objects.count() == 0


def test_the_merchant_sees_a_cancelled_shipment_marked(live_server, shop, published, client):
    send(live_server, "fulfillments/create", sample("fulfillments_create"))
    apply_all()
    cancelled = sample("fulfillments_update") | {
        "status": "cancelled",
        "updated_at": "2022-01-05T00:00:00Z",
    }
    send(live_server, "fulfillments/update", cancelled)
    apply_all()
    client.force_login(make_user("shop-merchant", store=shop))
    shipment = Shipment.objects.get()
    assert "Cancelled" in client.get("/app/shipments/").content.decode()
    assert (
        "The shop cancelled this fulfillment"
        in client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    )


def test_two_workers_applying_one_orders_webhooks_at_once_end_in_the_newest_state(
    live_server, shop, published, monkeypatch
):
    # Widen the race: each worker pauses between reading what was applied and writing.
    newer_than = shopify_service._newer

    def slow_newer(incoming, applied):
        time.sleep(0.1)
        return newer_than(incoming, applied)

    monkeypatch.setattr(shopify_service, "_newer", slow_newer)

    def apply_at_once(pks: list[int]) -> list[BaseException]:
        barrier = threading.Barrier(len(pks))
        errors: list[BaseException] = []

        def apply(pk: int) -> None:
            try:
                barrier.wait()
                shopify_webhook_apply(webhook_pk=pk)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db_connection.close()

        threads = [threading.Thread(target=apply, args=(pk,)) for pk in pks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    for round_ in range(5):
        older = _fulfillment(f"OLDER-{round_}", f"2022-02-0{round_ + 1}T12:00:00Z")
        newer = _fulfillment(f"NEWER-{round_}", f"2022-02-0{round_ + 2}T00:00:00Z")
        send(live_server, "fulfillments/update", older)
        send(live_server, "fulfillments/update", newer)
        pending = ShopifyWebhook.objects.filter(state="pending").values_list("pk", flat=True)
        assert apply_at_once(list(reversed(pending))) == []
        assert list(Shipment.objects.values_list("tracking_number", flat=True)) == [
            f"NEWER-{round_}"
        ]
