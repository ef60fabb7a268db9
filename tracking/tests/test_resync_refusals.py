"""Refused shopper resyncs cost no database write: counted in Redis, written once a minute
(shipments/services/refusals.py); the per-IP refusal speaks of the shopper's connection."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shipments import refusal_counts, services
from shipments.messages import humanize_wait
from shipments.models import ResyncRequest
from shipments.redis_client import RedisUnavailable, get_redis

from .conftest import make_order_shipment

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
LATER = 120  # seconds: the minute of the requests is over


def _resync_url(shipment) -> str:
    return reverse("tracking:resync", args=[shipment.public_token])


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]


@pytest.fixture(autouse=True)
def within_one_minute() -> None:
    """Refusals are counted per minute of Redis's clock: a test that counts a burst starts it
    early enough in a minute for the burst to end in the same one (else two rows are right)."""
    second = int(get_redis().time()[0]) % 60
    if second >= 50:
        time.sleep(61 - second)


def _flush() -> int:
    return services.resync_refusals_flush(now=time.time() + LATER)


def test_fifty_refusals_past_the_per_ip_limit_write_one_row_after_the_flush(
    client, tracked, settings
):
    settings.TRACK_RESYNC_RATE_PER_IP = "1/h"
    assert client.post(_resync_url(tracked), **JSON).status_code == 202
    accepted = ResyncRequest.objects.get()  # the accepted one is written at once, as before
    assert (accepted.accepted, accepted.request_count) == (True, 1)

    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            response = client.post(_resync_url(tracked), **JSON)
            assert response.status_code == 429
            assert response.json()["reason"] == "rate_limited"
    after = timezone.now()
    assert _writes(queries) == []
    assert ResyncRequest.objects.count() == 1

    # The minute is not over yet: nothing to write.
    assert services.resync_refusals_flush(now=time.time() - LATER) == 0
    assert _flush() == 1
    row = ResyncRequest.objects.get(accepted=False)
    assert (row.refused_reason, row.request_count, row.source, row.kind) == (
        "rate_limited",
        50,
        "shopper",
        "single",
    )
    assert (row.shipment, row.store, row.ip_address) == (tracked, tracked.store, "127.0.0.1")
    assert row.retry_after >= 1
    assert row.verdict == "refused ×50 (per-IP limit)"
    # The row is dated by its first refusal, not by the flush.
    assert before - dt.timedelta(seconds=1) <= row.created_at <= after + dt.timedelta(seconds=1)
    # A second flush finds nothing left: still one row.
    assert _flush() == 0
    assert ResyncRequest.objects.filter(accepted=False).count() == 1


def test_cooldown_refusals_of_shoppers_are_counted_per_client(client, tracked):
    assert client.post(_resync_url(tracked), **JSON).status_code == 202
    with CaptureQueriesContext(connection) as queries:
        for n in range(30):
            ip = "192.0.2.1" if n % 3 else "2001:db8::1"
            again = client.post(_resync_url(tracked), REMOTE_ADDR=ip, **JSON)
            assert again.status_code == 429
    assert _writes(queries) == []
    # Another address in the same IPv6 /64 is the same client.
    assert client.post(_resync_url(tracked), REMOTE_ADDR="2001:db8::2", **JSON).status_code == 429

    assert _flush() == 2
    rows = {
        r.ip_address: (r.refused_reason, r.request_count)
        for r in ResyncRequest.objects.filter(accepted=False)
    }
    assert rows == {"192.0.2.1": ("cooldown", 20), "2001:db8::1": ("cooldown", 11)}


def test_a_flush_retried_after_writing_writes_nothing_twice(client, tracked, monkeypatch):
    assert client.post(_resync_url(tracked), **JSON).status_code == 202
    for _ in range(3):
        client.post(_resync_url(tracked), **JSON)
    # The worker dies after the rows are written, before the counters are dropped.
    monkeypatch.setattr(refusal_counts, "forget", lambda keys: None)
    assert _flush() == 1
    monkeypatch.undo()
    _flush()
    assert list(ResyncRequest.objects.filter(accepted=False).values_list("request_count")) == [(3,)]
    assert refusal_counts.closed(now=time.time() + LATER) == []


def test_without_the_counter_a_refusal_is_still_written(client, tracked, monkeypatch):
    assert client.post(_resync_url(tracked), **JSON).status_code == 202

    def down(**_kw):
        raise RedisUnavailable("down")

    monkeypatch.setattr(refusal_counts, "count", down)
    assert client.post(_resync_url(tracked), **JSON).status_code == 429
    row = ResyncRequest.objects.get(accepted=False)
    assert (row.refused_reason, row.request_count) == ("cooldown", 1)


def test_merchant_refusals_are_written_one_row_each(tracked):
    merchant = get_user_model().objects.create_user("m", password="pw-123456")
    assert services.shipment_resync(shipment=tracked, source="merchant", user=merchant).accepted
    for _ in range(3):
        assert not services.shipment_resync(
            shipment=tracked, source="merchant", user=merchant
        ).accepted
    assert ResyncRequest.objects.filter(accepted=False, source="merchant").count() == 3
    assert _flush() == 0


def test_the_admin_shows_aggregated_refusals(admin_client, tracked, settings):
    settings.TRACK_RESYNC_RATE_PER_IP = "1/h"
    for _ in range(8):
        client_response = admin_client.post(_resync_url(tracked), **JSON)
        assert client_response.status_code in (202, 429)
    _flush()
    html = admin_client.get(reverse("admin:shipments_resyncrequest_changelist")).content.decode()
    assert "refused ×7 (per-IP limit)" in html


# --- The per-IP refusal's words (issue #13, item 9) ----------------------------------------------


def test_the_per_ip_refusal_speaks_of_the_connection(client, shop, settings):
    settings.TRACK_RESYNC_RATE_PER_IP = "1/h"
    first = make_order_shipment(shop, order_number="#1")
    never_resynced = make_order_shipment(shop, order_number="#2")
    assert client.post(_resync_url(first), **JSON).status_code == 202

    refused = client.post(_resync_url(never_resynced), **JSON)
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert refused.json()["retry_after"] == wait
    message = refused.json()["error"]
    # The per-IP window starts with the connection's first resync: about an hour is left.
    assert 3590 <= wait <= 3600
    assert message == (
        f"Too many resyncs from your connection. Please try again in {humanize_wait(wait)}."
    )
    assert "You can resync again" not in message

    page = client.post(_resync_url(never_resynced))
    assert page.status_code == 429
    assert int(page["Retry-After"]) >= 1
    html = page.content.decode()
    assert "Too many resyncs from your connection. Please try again in" in html
    assert "You can resync again" not in html


def test_with_the_abuse_limits_off_a_connection_is_not_counted(client, shop, settings):
    settings.TRACK_RESYNC_RATE_PER_IP = "1/h"
    settings.RATELIMIT_ENABLE = False
    for number in ("#1", "#2", "#3"):
        shipment = make_order_shipment(shop, order_number=number)
        assert client.post(_resync_url(shipment), **JSON).status_code == 202
