"""Fixtures of the public tracking tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from shipments import redis_client
from shipments.models import Order, Shipment, Store, TrackingEvent
from shipments.redis_client import get_redis
from shipments.tests.fixtures import make_shipment, make_store

DOWN_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def empty_queues() -> Iterator[None]:
    """Accepted resyncs publish to the broker (the test Redis database); nobody consumes here."""
    get_redis().delete("interactive", "bulk")
    yield
    get_redis().delete("interactive", "bulk")


@pytest.fixture
def redis_down(settings: Any) -> Iterator[None]:
    """Redis (cooldowns, rate-limit cache, broker) does not answer."""
    redis_client._client.cache_clear()
    settings.REDIS_URL = DOWN_URL
    settings.CELERY_BROKER_URL = DOWN_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DOWN_URL,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    yield
    redis_client._client.cache_clear()


def make_order_shipment(
    store: Store,
    *,
    order_number: str = "#1001",
    email: str = "Jane.Doe@example.com",
    **fields: Any,
) -> Shipment:
    order = Order.objects.create(
        store=store,
        order_number=order_number,
        customer_email=email,
        placed_at=timezone.now() - dt.timedelta(days=2),
    )
    return make_shipment(store, order=order, **fields)


def add_event(shipment: Shipment, *, hours_ago: float, status: str, description: str, **kw: Any):
    return TrackingEvent.objects.create(
        shipment=shipment,
        occurred_at=timezone.now() - dt.timedelta(hours=hours_ago),
        status=status,
        description=description,
        location=kw.pop("location", "Leipzig, DE"),
        fingerprint=kw.pop(
            "fingerprint",
            hashlib.sha256(f"{status}-{hours_ago}-{description}".encode()).hexdigest(),
        ),
        **kw,
    )


@pytest.fixture
def shop(db) -> Store:
    return make_store(
        name="Acme Outdoor GmbH",
        slug="acme-outdoor",
        display_name="Acme Outdoor",
        time_zone="Europe/Berlin",
        accent_color="#0a7d55",
        logo_url="https://cdn.example.com/acme.png",
    )


@pytest.fixture
def tracked(shop: Store) -> Shipment:
    shipment = make_order_shipment(
        shop,
        carrier="dhl",
        status="in_transit",
        estimated_delivery=timezone.now() + dt.timedelta(days=2),
        last_synced_at=timezone.now() - dt.timedelta(minutes=7),
    )
    add_event(shipment, hours_ago=30, status="info_received", description="Label created")
    add_event(shipment, hours_ago=20, status="in_transit", description="Departed hub")
    return shipment
