"""Shopify's webhook signature: `X-Shopify-Hmac-Sha256` is the base64 of HMAC-SHA256 of the raw
body, keyed with the app's client secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    """The header value Shopify sends for `body` (also what our demo command and tests send)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(body: bytes, header: str | None, secret: str) -> bool:
    """True only when a secret is configured and `header` is the body's signature; compared in
    constant time (`hmac.compare_digest`), so the answer's timing tells nothing about the value."""
    if not secret or not header:
        return False
    expected = sign(body, secret).encode("ascii")
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)
