"""Shared fixtures and factories (loaded by the root conftest)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from shipments.carriers.numbers import example_number
from shipments.models import Membership, Order, Shipment, Store
from shipments.redis_client import get_redis, reset_breakers
from shipments.services import enqueue

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    """Every test starts without our keys in the test Redis database (see conftest).

    Only the app's keys go: the broker's queues and bindings in the same database stay, so a
    worker started for a module keeps receiving. Each test starts with closed circuit breakers
    (a Redis made to fail by one test is not skipped in the next).
    """
    reset_breakers()
    client = get_redis()

    def wipe() -> None:
        keys = list(client.scan_iter("resync*", count=1000))
        if keys:
            client.delete(*keys)

    wipe()
    yield
    reset_breakers()
    wipe()


def make_store(**fields: Any) -> Store:
    n = next(_seq)
    fields.setdefault("name", f"Store {n}")
    fields.setdefault("slug", f"store-{n}")
    fields.setdefault("time_zone", "UTC")
    return Store.objects.create(**fields)


def make_user(username: str | None = None, *, store: Store | None = None, **fields: Any):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password="pw-123456", **fields
    )
    if store is not None:
        Membership.objects.create(user=user, store=store, role=Membership.Role.OWNER)
    return user


def make_shipment(store: Store, **fields: Any) -> Shipment:
    n = next(_seq)
    order = fields.pop("order", None) or Order.objects.create(
        store=store,
        order_number=f"#{n:06d}",  # one width: no number is part of another (search tests)
        customer_email=f"shopper{n}@example.com",
        placed_at=timezone.now() - dt.timedelta(days=1),
    )
    carrier = fields.pop("carrier", "dhl")
    fields.setdefault("tracking_number", example_number(carrier, n))
    # Shipped a minute ago: "today" in every store's zone at any hour (two hours ago was
    # "yesterday" in Berlin between midnight and 2 a.m., and the "today" windows found nothing).
    fields.setdefault("shipped_at", timezone.now() - dt.timedelta(minutes=1))
    return Shipment.objects.create(store=store, order=order, carrier=carrier, **fields)


@pytest.fixture
def store(db) -> Store:
    return make_store(name="Acme", slug="acme", time_zone="Europe/Berlin")


@pytest.fixture
def other_store(db) -> Store:
    return make_store(name="Other", slug="other")


@pytest.fixture
def merchant(store):
    return make_user("merchant", store=store)


@pytest.fixture
def merchant_client(client, merchant):
    client.force_login(merchant)
    return client


@pytest.fixture
def shipment(store) -> Shipment:
    return make_shipment(store)


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, tuple, str]]:
    """Tasks enqueued during the test, recorded as (name, args, queue) instead of sent: tests
    without a worker of their own must neither race a worker that another module started nor
    have it act on rows that the test's teardown is removing."""
    sent: list[tuple[str, tuple, str]] = []

    def record(name, *, args=(), queue, **options):
        sent.append((name, tuple(args), queue))

    monkeypatch.setattr(enqueue, "publish", record)
    return sent
