"""Fixtures of the merchant API's tests: a real key (created by the service) and a client that
sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from connect import services


class ApiClient:
    """The Django test client, speaking JSON with `Authorization: Bearer <key>`."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.key = key

    def headers(self, key: str | None = None) -> dict[str, str]:
        key = key if key is not None else self.key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, url: str, data: Any = None, *, key: str | None = None, **extra: Any):
        return self.client.get(url, data, headers=self.headers(key), **extra)

    def post(self, url: str, data: Any = None, *, key: str | None = None, raw: Any = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(
            url, body, content_type="application/json", headers=self.headers(key)
        )


@pytest.fixture(autouse=True)
def roomy_rate_limit(settings) -> None:
    """Tests make many requests a second: the rate limit's own tests set a small one."""
    settings.API_RATE_LIMIT_PER_SECOND = 1000


@pytest.fixture
def api_key(store) -> str:
    _key, raw = services.api_key_create(store=store, name="ERP")
    return raw


@pytest.fixture
def api(client, api_key) -> ApiClient:
    return ApiClient(client, api_key)
