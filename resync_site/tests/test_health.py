from __future__ import annotations

import time

import pytest
from django.test import override_settings

from shipments.redis_client import _client

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


def test_healthz_ok_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}


@pytest.mark.parametrize("setting", ["REDIS_URL", "CELERY_BROKER_URL"])
def test_healthz_names_what_is_down_and_answers_within_a_second(client, setting):
    _client.cache_clear()
    with override_settings(**{setting: CLOSED_PORT_URL}):
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    _client.cache_clear()
    assert response.status_code == 503
    body = response.json()
    expected = "redis" if setting == "REDIS_URL" else "broker"
    assert body["failing"] == [expected]
    assert "Connection" in body["checks"][expected]
    assert body["checks"]["database"] == "ok"
    assert elapsed < 1.0


def test_healthz_with_a_black_hole_redis_still_answers_within_a_second(client):
    # 10.255.255.1 is not routed: the connection attempt hangs until our timeout.
    _client.cache_clear()
    with override_settings(
        REDIS_URL="redis://10.255.255.1:6379/0", CELERY_BROKER_URL=CLOSED_PORT_URL
    ):
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    _client.cache_clear()
    assert response.status_code == 503
    assert set(response.json()["failing"]) == {"redis", "broker"}
    assert elapsed < 1.0
