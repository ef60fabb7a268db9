from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shipments.demo import seed_demo
from shipments.models import ResyncRequest, SyncRun, SyncRunItem, TrackingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


def _add_rows(count: int) -> None:
    seed_demo(shipments=count)
    for shipment in shipment_model().objects.all()[:count]:
        TrackingEvent.objects.get_or_create(
            shipment=shipment,
            fingerprint=f"fp-{shipment.pk}",
            defaults={"occurred_at": timezone.now(), "status": "in_transit", "description": "x"},
        )
        run = SyncRun.objects.create(store=shipment.store, window="7d", source="ops", total=1)
        SyncRunItem.objects.create(run=run, shipment=shipment, carrier=shipment.carrier)
        ResyncRequest.objects.create(
            store=shipment.store, kind="single", source="merchant", shipment=shipment, accepted=True
        )


def shipment_model():
    from shipments.models import Shipment

    return Shipment


def _changelist_queries(client, model) -> int:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


def test_every_model_has_a_changelist_in_constant_queries(ops_client):
    models = [m for m in admin.site._registry if m._meta.app_label == "shipments"]
    assert len(models) == 9
    _add_rows(5)
    few = {m: _changelist_queries(ops_client, m) for m in models}
    _add_rows(40)
    many = {m: _changelist_queries(ops_client, m) for m in models}
    assert few == many


def test_shipment_change_page_shows_events_read_only(ops_client):
    _add_rows(1)
    shipment = shipment_model().objects.first()
    response = ops_client.get(reverse("admin:shipments_shipment_change", args=[shipment.pk]))
    assert response.status_code == 200
    assert b"Tracking events" in response.content
    assert not admin.site._registry[TrackingEvent].has_change_permission(response.wsgi_request)
    assert not admin.site._registry[ResyncRequest].has_add_permission(response.wsgi_request)


def test_admin_search_by_order_number_tracking_number_and_email(ops_client):
    seed_demo(shipments=12)
    shipment = shipment_model().objects.select_related("order").first()
    url = reverse("admin:shipments_shipment_changelist")
    for term in (
        shipment.order.order_number,
        shipment.tracking_number,
        shipment.order.customer_email,
    ):
        response = ops_client.get(url, {"q": term})
        assert shipment.tracking_number in response.content.decode()
        assert response.context["cl"].result_count >= 1
