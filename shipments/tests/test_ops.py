"""Ops tools: admin actions and `manage.py resync`, each audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from shipments import cooldowns
from shipments.models import ResyncJob, ResyncRequest, SyncRun

from .fixtures import make_shipment
from .worker_fixtures import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    ops = get_user_model().objects.create_superuser("ops1", "ops@example.com", "pw-123456")
    client.force_login(ops)
    return client


def test_admin_resync_action_bypasses_the_cooldown_and_is_audited(
    ops_client, store, django_capture_on_commit_callbacks
):
    shipments = [make_shipment(store) for _ in range(2)]
    cooldowns.acquire_shipment(store.pk, shipments[0].pk)  # a shopper just resynced it
    with django_capture_on_commit_callbacks() as enqueues:
        response = ops_client.post(
            reverse("admin:shipments_shipment_changelist"),
            {"action": "resync_selected", "_selected_action": [s.pk for s in shipments]},
            follow=True,
        )
    assert response.status_code == 200
    assert "2 shipment(s) queued for resync." in response.content.decode()
    assert len(enqueues) == 2
    assert ResyncJob.objects.filter(source="ops").count() == 2
    audit = ResyncRequest.objects.filter(kind="single", source="ops")
    assert audit.count() == 2
    assert all(a.forced and a.accepted and a.user.username == "ops1" for a in audit)


def test_admin_clear_cooldown_action(ops_client, store):
    shipment = make_shipment(store)
    cooldowns.acquire_shipment(store.pk, shipment.pk)
    ops_client.post(
        reverse("admin:shipments_shipment_changelist"),
        {"action": "clear_cooldown", "_selected_action": [shipment.pk]},
    )
    assert cooldowns.shipment_retry_after(store.pk, shipment.pk) == 0
    assert ResyncRequest.objects.filter(kind="clear_cooldown", shipment=shipment).exists()

    cooldowns.acquire_bulk(store.pk, run_id=1)
    cooldowns.release_bulk_run(store.pk, 1)
    ops_client.post(
        reverse("admin:shipments_store_changelist"),
        {"action": "clear_bulk_cooldown", "_selected_action": [store.pk]},
    )
    assert cooldowns.bulk_retry_after(store.pk) == 0


def test_resync_command_refuses_bad_input_and_respects_the_cooldown(store):
    make_shipment(store)
    with pytest.raises(CommandError, match="no store"):
        call_command("resync", store="nope", window="7d", no_wait=True)
    with pytest.raises(CommandError, match="Unknown window"):
        call_command("resync", store=store.slug, window="8d", no_wait=True)
    cooldowns.acquire_bulk(store.pk, run_id=999)
    with pytest.raises(CommandError, match="in progress"):
        call_command("resync", store=store.slug, window="7d", no_wait=True)
    assert not SyncRun.objects.exists()
    call_command("resync", store=store.slug, window="7d", no_wait=True, force=True)
    run = SyncRun.objects.get()
    assert (run.source, run.total) == ("cli", 1)
    assert ResyncRequest.objects.filter(source="cli", accepted=True, forced=True).count() == 1
    assert ResyncRequest.objects.filter(source="cli", accepted=False).count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_resync_command_follows_the_run_to_the_end(worker, sandbox, capsys):
    from .fixtures import make_store

    store = make_store(slug="cli-store")
    for carrier in ("dhl", "ups", "fedex"):
        make_shipment(store, carrier=carrier)
    call_command("resync", store="cli-store", window="today", timeout=60)
    out = capsys.readouterr().out
    assert "run " in out
    assert "3/3 100%" in out
    assert out.strip().endswith("completed")
    wait_for(lambda: SyncRun.objects.get().state == "completed")
