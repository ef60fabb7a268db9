"""Demo data: a store `demo`, merchant `demo`/`demo`, ops `ops`/`ops`, N shipments over 90 days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .carriers import catalogue
from .carriers.numbers import example_number
from .models import Membership, Order, Shipment, Store

DEMO_CARRIERS = catalogue.CODES
DEMO_SHOP_DOMAIN = "demo-store.myshopify.com"
_CITIES = (
    "Berlin, DE",
    "Chicago, IL, US",
    "Dallas, TX, US",
    "Memphis, TN, US",
    "Louisville, KY, US",
    "Shenzhen, CN",
    "Singapore, SG",
    "Leipzig, DE",
    "New York, NY, US",
    "Toronto, ON, CA",
)


@dataclass(frozen=True)
class SeedReport:
    stores: int
    orders: int
    shipments: int
    created_shipments: int


def seed_demo(
    *,
    shipments: int = 200,
    store_slug: str = "demo",
    days: int = 90,
    now: dt.datetime | None = None,
) -> SeedReport:
    """Create (or complete) the demo store; running it again adds nothing that exists."""
    now = now or timezone.now()
    User = get_user_model()
    with transaction.atomic():
        store, _ = Store.objects.get_or_create(
            slug=store_slug,
            defaults={
                "name": "Demo Outfitters" if store_slug == "demo" else store_slug.title(),
                "display_name": "Demo Outfitters",
                "time_zone": "America/New_York",
                "accent_color": "#1f5fbf",
            },
        )
        if store_slug == "demo":
            if not store.shop_domain:  # webhooks from the demo Shopify shop find this store
                store.shop_domain = DEMO_SHOP_DOMAIN
                store.save(update_fields=["shop_domain"])
            merchant, created = User.objects.get_or_create(
                username="demo", defaults={"email": "demo@example.com"}
            )
            if created:
                merchant.set_password("demo")
                merchant.save(update_fields=["password"])
            Membership.objects.get_or_create(
                user=merchant, store=store, defaults={"role": Membership.Role.OWNER}
            )
            ops, created = User.objects.get_or_create(
                username="ops",
                defaults={"email": "ops@example.com", "is_staff": True, "is_superuser": True},
            )
            if created:
                ops.set_password("ops")
                ops.save(update_fields=["password"])

        step = dt.timedelta(days=days) / max(shipments, 1)
        orders = []
        for i in range(shipments):
            orders.append(
                Order(
                    store=store,
                    order_number=f"#{1001 + i}",
                    customer_email=f"shopper{1001 + i}@example.com",
                    customer_name=f"Shopper {1001 + i}",
                    placed_at=now - step * i - dt.timedelta(hours=6),
                )
            )
        Order.objects.bulk_create(orders, ignore_conflicts=True, batch_size=1000)
        order_ids = dict(
            Order.objects.filter(
                store=store, order_number__in=[o.order_number for o in orders]
            ).values_list("order_number", "id")
        )
        before = Shipment.objects.filter(store=store).count()
        rows = []
        for i in range(shipments):
            carrier = DEMO_CARRIERS[i % len(DEMO_CARRIERS)]
            rows.append(
                Shipment(
                    store=store,
                    order_id=order_ids[f"#{1001 + i}"],
                    carrier=carrier,
                    tracking_number=example_number(carrier, i),
                    origin=_CITIES[i % len(_CITIES)],
                    destination=_CITIES[(i * 7 + 3) % len(_CITIES)],
                    shipped_at=now - step * i,
                    next_sync_at=now,
                )
            )
        Shipment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        after = Shipment.objects.filter(store=store).count()
    return SeedReport(
        stores=Store.objects.count(),
        orders=Order.objects.filter(store=store).count(),
        shipments=after,
        created_shipments=after - before,
    )
