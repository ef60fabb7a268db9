"""Carrier push in over real HTTP (`live_server`): 17TRACK and AfterShip webhooks, signed as they
sign them, change a shipment exactly as a pull of the same document does; refused ones change
nothing. Applying is the worker's task body (`carrier_push_apply`), called here directly; the
end-to-end test with a real worker and the sandbox is test_carrier_push_worker.py."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.utils import timezone

from connect.models import CarrierPush
from connect.services import carrier_push as push_service
from shipments.carriers import aftership, seventeentrack
from shipments.models import Shipment, TrackingEvent
from shipments.services import shipments_apply_results
from shipments.signals import shipments_changed
from shipments.tests.fixtures import make_shipment, make_store

from .push_helpers import post_push, pull_payload, push_secrets, sample  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("push_secrets")]

LX = "LX123456789CN"  # 17TRACK's documented number
FEDEX = "794612345672"  # AfterShip's documented number
SHIPMENT_FIELDS = [
    "status",
    "sub_status",
    "carrier_status_code",
    "carrier_status_text",
    "estimated_delivery",
    "origin",
    "destination",
    "actual_carrier_code",
    "actual_carrier_name",
    "actual_carrier_url",
    "last_event_at",
    "last_sync_outcome",
]
EVENT_FIELDS = ["occurred_at", "status", "description", "location", "raw_code", "fingerprint"]


@pytest.fixture(autouse=True)
def no_worker_here(monkeypatch) -> None:
    """Pushes are applied by calling the task's service here, in order: nothing is published
    (a session-wide worker of other tests would otherwise apply them first)."""
    monkeypatch.setattr(push_service, "publish_apply", lambda push_pk: None)


def _events(shipment: Shipment) -> list[tuple]:
    return sorted(
        TrackingEvent.objects.filter(shipment=shipment).order_by().values_list(*EVENT_FIELDS)
    )


def _row(shipment: Shipment) -> dict:
    shipment.refresh_from_db()
    return {name: getattr(shipment, name) for name in SHIPMENT_FIELDS}


def _apply_all() -> list[str]:
    pending = CarrierPush.objects.filter(state=CarrierPush.State.PENDING).order_by("pk")
    return [push_service.carrier_push_apply(push_pk=p.pk) for p in pending]


def _pulled(carrier: str, number: str) -> Shipment:
    """The same document applied by a pull, to another store's shipment with that number."""
    shipment = make_shipment(make_store(), carrier=carrier, tracking_number=number)
    if carrier == "17track":
        payload = pull_payload("17track", "gettrackinfo_documented")
        results = seventeentrack.parse_track_response(payload, requested=[number]).results
    else:
        payload = pull_payload("aftership", "tracking_documented_2025-01")
        results = {number: aftership.parse_response(payload, tracking_number=number)}
    shipments_apply_results(shipments=[shipment], results=results, now=timezone.now())
    return shipment


@pytest.mark.parametrize(
    ("provider", "number", "name"),
    [
        ("17track", LX, "17track_tracking_updated"),
        ("aftership", FEDEX, "aftership_tracking_update"),
    ],
)
def test_a_signed_push_changes_the_shipment_as_a_pull_of_the_same_data(
    live_server, provider, number, name
):
    shipment = make_shipment(make_store(), carrier=provider, tracking_number=number)
    announced = []

    def listener(sender, changes, **kwargs):
        announced.extend(changes)

    shipments_changed.connect(listener)
    try:
        response = post_push(live_server.url, provider, sample(name))
        assert response.status_code == 200, response.text
        assert response.json() == {"ok": True, "known": True, "duplicate": False}
        push = CarrierPush.objects.get()
        assert (push.provider, push.tracking_number, push.verified) == (provider, number, True)
        assert push.state == "pending"  # recorded first; applied by the worker
        assert _apply_all() == ["applied"]
    finally:
        shipments_changed.disconnect(listener)

    pulled = _pulled(provider, number)
    assert _row(shipment) == _row(pulled)
    assert _events(shipment) == _events(pulled)
    assert len(_events(shipment)) == 2
    assert shipment.status != "pending"
    # Same notifications as a pull: the apply service announced the news.
    assert [c.shipment_id for c in announced] == [shipment.pk]
    push.refresh_from_db()
    assert push.applied_at is not None
    assert push.error == ""
    # A shipment that receives pushes is pulled only as a daily safety check.
    shipment.refresh_from_db()
    assert shipment.push_seen_at is not None
    assert shipment.next_sync_at > timezone.now() + dt.timedelta(hours=20)
    assert pulled.push_seen_at is None


@pytest.mark.parametrize("provider", ["17track", "aftership"])
@pytest.mark.parametrize("signature", ["wrong", "", None])
def test_a_bad_signature_is_401_and_changes_nothing(live_server, provider, signature):
    number, name = (
        (LX, "17track_tracking_updated")
        if provider == "17track"
        else (FEDEX, "aftership_tracking_update")
    )
    shipment = make_shipment(make_store(), carrier=provider, tracking_number=number)
    before = _row(shipment)
    if signature is None:  # signed with another key
        response = post_push(live_server.url, provider, sample(name), secret="another-key")
    else:
        response = post_push(live_server.url, provider, sample(name), signature=signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not CarrierPush.objects.exists()
    assert _row(shipment) == before
    assert not TrackingEvent.objects.exists()


def test_no_secret_configured_refuses_every_push(live_server, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = ""
    make_shipment(make_store(), carrier="aftership", tracking_number=FEDEX)
    body = sample("aftership_tracking_update")
    assert post_push(live_server.url, "aftership", body, secret="").status_code == 401
    assert not CarrierPush.objects.exists()


@pytest.mark.parametrize(
    ("provider", "name"),
    [("17track", "17track_tracking_updated"), ("aftership", "aftership_tracking_update")],
)
def test_an_unknown_number_is_200_and_changes_nothing(live_server, provider, name):
    other = make_shipment(make_store(), carrier=provider)  # another number
    before = _row(other)
    response = post_push(live_server.url, provider, sample(name))
    assert response.status_code == 200
    assert response.json()["known"] is False
    assert not CarrierPush.objects.exists()
    assert _row(other) == before
    assert not TrackingEvent.objects.exists()


def test_the_same_number_with_another_carrier_is_unknown(live_server):
    shipment = make_shipment(make_store(), carrier="fedex", tracking_number=FEDEX)
    response = post_push(live_server.url, "aftership", sample("aftership_tracking_update"))
    assert response.json()["known"] is False
    shipment.refresh_from_db()
    assert shipment.status == "pending"
    assert shipment.push_seen_at is None


def test_bad_json_after_a_good_signature_is_400(live_server):
    for body in (b"{not json", b"[" * 100 + b"]" * 100):
        response = post_push(live_server.url, "17track", body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_json"
    assert not CarrierPush.objects.exists()


def test_an_over_sized_body_is_413_before_the_signature(live_server, settings):
    settings.CARRIER_PUSH_MAX_BYTES = 1000
    body = json.dumps({"event": "TRACKING_UPDATED", "data": {"x": "y" * 2000}}).encode()
    assert post_push(live_server.url, "17track", body).status_code == 413
    assert post_push(live_server.url, "aftership", body, signature="x").status_code == 413


def test_only_post(live_server):
    import requests

    response = requests.get(live_server.url + "/webhooks/carriers/17track/", timeout=5)
    assert response.status_code == 405


def test_the_same_push_twice_changes_nothing(live_server):
    shipment = make_shipment(make_store(), carrier="17track", tracking_number=LX)
    body = json.dumps(sample("17track_tracking_updated")).encode()
    first = post_push(live_server.url, "17track", body)
    second = post_push(live_server.url, "17track", body)
    assert first.json()["duplicate"] is False
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert CarrierPush.objects.count() == 1
    assert _apply_all() == ["applied"]
    row, events = _row(shipment), _events(shipment)
    # A redelivered task message changes nothing either.
    push = CarrierPush.objects.get()
    assert push_service.carrier_push_apply(push_pk=push.pk) == "applied"
    assert (_row(shipment), _events(shipment)) == (row, events)
    push.refresh_from_db()
    assert push.attempts == 1


def _aftership_delivered() -> dict:
    """AfterShip's documented tracking, a day later: delivered (a newer state)."""
    body = sample("aftership_tracking_update")
    tracking = body["msg"]
    delivered = copy.deepcopy(tracking["checkpoints"][-1])
    delivered.update(
        checkpoint_time="2025-03-06T13:02:00-08:00",
        message="Delivered",
        tag="Delivered",
        subtag="Delivered_001",
        subtag_message="Delivered",
        raw_tag="DL",
    )
    tracking["checkpoints"].append(delivered)
    tracking.update(
        tag="Delivered",
        subtag="Delivered_001",
        subtag_message="Delivered",
        updated_at="2025-03-06T21:10:00+00:00",
    )
    body["event_id"] = "0b7a2c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    return body


def test_an_older_push_after_a_newer_one_does_not_move_the_status_back(live_server):
    shipment = make_shipment(make_store(), carrier="aftership", tracking_number=FEDEX)
    assert post_push(live_server.url, "aftership", _aftership_delivered()).status_code == 200
    assert _apply_all() == ["applied"]
    assert _row(shipment)["status"] == "delivered"
    events = _events(shipment)

    older = post_push(live_server.url, "aftership", sample("aftership_tracking_update"))
    assert older.status_code == 200
    assert _apply_all() == ["stale"]
    assert _row(shipment)["status"] == "delivered"
    assert _events(shipment) == events


def test_pushes_applied_in_order_end_in_the_newest_state(live_server):
    shipment = make_shipment(make_store(), carrier="aftership", tracking_number=FEDEX)
    post_push(live_server.url, "aftership", sample("aftership_tracking_update"))
    post_push(live_server.url, "aftership", _aftership_delivered())
    assert _apply_all() == ["applied", "applied"]
    assert _row(shipment)["status"] == "delivered"
    assert len(_events(shipment)) == 3


def test_an_older_17track_push_is_stale_too(live_server):
    shipment = make_shipment(make_store(), carrier="17track", tracking_number=LX)
    newer = sample("17track_tracking_updated")
    info = newer["data"]["track_info"]
    event = copy.deepcopy(info["tracking"]["providers"][0]["events"][0])
    event.update(
        time_iso="2025-03-07T09:00:00-06:00",
        time_utc="2025-03-07T15:00:00Z",
        description="Delivered",
        stage="Delivered",
        sub_status="Delivered_Other",
    )
    info["tracking"]["providers"][0]["events"].insert(0, event)
    info["latest_status"] = {"status": "Delivered", "sub_status": "Delivered_Other"}
    post_push(live_server.url, "17track", newer)
    post_push(live_server.url, "17track", sample("17track_tracking_updated"))
    assert _apply_all() == ["applied", "stale"]
    assert _row(shipment)["status"] == "delivered"


def test_tracking_stopped_puts_the_shipment_back_on_polling(live_server):
    shipment = make_shipment(make_store(), carrier="17track", tracking_number=LX)
    post_push(live_server.url, "17track", sample("17track_tracking_updated"))
    assert _apply_all() == ["applied"]
    shipment.refresh_from_db()
    assert shipment.next_sync_at > timezone.now() + dt.timedelta(hours=20)

    response = post_push(live_server.url, "17track", sample("17track_tracking_stopped"))
    assert response.status_code == 200
    assert _apply_all() == ["applied"]
    shipment.refresh_from_db()
    assert shipment.push_seen_at is None
    # In transit: the normal schedule pulls it again within about three hours.
    assert shipment.next_sync_at < timezone.now() + dt.timedelta(hours=4)
    assert shipment.status == "in_transit"


def test_a_push_without_a_number_is_answered_and_not_kept(live_server):
    make_shipment(make_store(), carrier="17track", tracking_number=LX)
    response = post_push(live_server.url, "17track", {"event": "TRACKING_UPDATED", "data": {}})
    assert response.status_code == 200
    assert response.json()["known"] is False
    assert not CarrierPush.objects.exists()


def test_the_reconciler_finds_pushes_left_pending(live_server):
    make_shipment(make_store(), carrier="17track", tracking_number=LX)
    post_push(live_server.url, "17track", sample("17track_tracking_updated"))
    push = CarrierPush.objects.get()
    now = timezone.now()
    assert push_service.carrier_pushes_pending(now=now) == []
    later = now + dt.timedelta(minutes=2)
    assert push_service.carrier_pushes_pending(now=later) == [push.pk]
    push_service.carrier_push_apply(push_pk=push.pk)
    assert push_service.carrier_pushes_pending(now=later) == []
    # Settled pushes are forgotten after the retention, pending ones never.
    assert push_service.carrier_pushes_purge(now=now + dt.timedelta(days=30)) == 1


def test_ops_see_received_pushes_read_only_in_admin(live_server, client):
    from django.contrib.auth import get_user_model

    make_shipment(make_store(), carrier="17track", tracking_number=LX)
    post_push(live_server.url, "17track", sample("17track_tracking_updated"))
    _apply_all()
    push = CarrierPush.objects.get()
    ops = get_user_model().objects.create_superuser("ops-push", "ops@example.com", "pw-123456")
    client.force_login(ops)
    page = client.get("/admin/connect/carrierpush/")
    assert page.status_code == 200
    text = page.content.decode()
    for shown in (LX, "17TRACK", "TRACKING_UPDATED", "Applied"):
        assert shown in text
    assert client.get("/admin/connect/carrierpush/add/").status_code == 403
    detail = client.get(f"/admin/connect/carrierpush/{push.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # view only


def test_17track_pushes_are_checked_with_the_seventeentrack_api_key_setting(live_server, settings):
    settings.SEVENTEENTRACK_API_KEY = "key-from-the-environment"
    make_shipment(make_store(), carrier="17track", tracking_number=LX)
    body = sample("17track_tracking_updated")
    response = post_push(live_server.url, "17track", body, secret="key-from-the-environment")
    assert response.status_code == 200
    assert response.json()["known"] is True
