"""Sending Shopify webhooks over real HTTP, signed as Shopify signs them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import requests

from connect.shopify.signature import sign

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "shopify"
SECRET = "test-shopify-client-secret"
SHOP = "acme-test.myshopify.com"


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of one of Shopify's documented sample payloads (connect/samples/shopify)."""
    return copy.deepcopy(json.loads((SAMPLES / f"{name}.json").read_text()))


def post_webhook(
    base_url: str,
    topic: str,
    payload: Any,
    *,
    shop: str = SHOP,
    webhook_id: str | None = None,
    secret: str = SECRET,
    hmac: str | None = None,
) -> requests.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": hmac if hmac is not None else sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Triggered-At": "2026-11-29T10:00:00.000000Z",
    }
    return requests.post(f"{base_url}/webhooks/shopify/", data=body, headers=headers, timeout=10)
