"""Sending 17TRACK and AfterShip pushes over real HTTP, signed as they sign them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from shipments.carriers import push as carrier_push

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "carrier_push"
PULL_PAYLOADS = Path(__file__).resolve().parents[2] / "shipments/tests/carriers/payloads"
# The sandbox accepts any key; these are what the app checks in the tests (the 17TRACK one is
# the worker's sandbox credential, harness.env.sandbox_credentials).
SEVENTEENTRACK_KEY = "sandbox-17track-api-key"
AFTERSHIP_SECRET = "test-aftership-webhook-secret"
SECRETS = {
    carrier_push.SEVENTEENTRACK: SEVENTEENTRACK_KEY,
    carrier_push.AFTERSHIP: AFTERSHIP_SECRET,
}
PATHS = {
    carrier_push.SEVENTEENTRACK: "/webhooks/carriers/17track/",
    carrier_push.AFTERSHIP: "/webhooks/carriers/aftership/",
}


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of a documented push sample (connect/samples/carrier_push)."""
    return copy.deepcopy(json.loads((SAMPLES / f"{name}.json").read_text()))


def pull_payload(carrier: str, name: str) -> dict[str, Any]:
    return json.loads((PULL_PAYLOADS / carrier / f"{name}.json").read_text())


def post_push(
    base_url: str,
    provider: str,
    payload: Any,
    *,
    secret: str | None = None,
    signature: str | None = None,
) -> requests.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    header = carrier_push.SIGNATURE_HEADERS[provider]
    if signature is None:
        signature = carrier_push.sign(
            provider, body, SECRETS[provider] if secret is None else secret
        )
    return requests.post(
        base_url + PATHS[provider],
        data=body,
        headers={"Content-Type": "application/json", header: signature},
        timeout=10,
    )


@pytest.fixture
def push_secrets(settings) -> None:
    """The app checks pushes with the test keys (17TRACK's is its API key)."""
    credentials = copy.deepcopy(settings.CARRIER_CREDENTIALS)
    credentials[carrier_push.SEVENTEENTRACK]["api_key"] = SEVENTEENTRACK_KEY
    settings.CARRIER_CREDENTIALS = credentials
    settings.AFTERSHIP_WEBHOOK_SECRET = AFTERSHIP_SECRET
