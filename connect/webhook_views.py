"""`POST /webhooks/shopify/`: one URL for every topic, exactly as Shopify sends them.

Order of checks: the signature of the raw body, before anything is parsed (401); the shop
(404: unknown or disconnected); the body (400: not JSON); then the webhook is recorded and the
answer is 200 — also for a webhook id seen before, which changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from resync_site.jsonbody import BadJSON, parse_json

from .services import shopify
from .shopify.signature import signature_matches


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt  # Shopify signs the body; there is no session or form here
@require_POST
def shopify_webhook(request: HttpRequest) -> JsonResponse:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.SHOPIFY_WEBHOOK_MAX_BYTES:
        return _error(413, "too_large", "The body is larger than a Shopify webhook can be.")
    body = request.body
    if not signature_matches(
        body, request.headers.get("X-Shopify-Hmac-Sha256"), settings.SHOPIFY_API_SECRET
    ):
        return _error(401, "bad_signature", "The HMAC signature does not match the body.")
    store = shopify.store_for_shop(request.headers.get("X-Shopify-Shop-Domain", ""))
    if store is None:
        return _error(404, "unknown_shop", "No connected store has this shop domain.")
    topic = request.headers.get("X-Shopify-Topic", "").strip()
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not topic or not webhook_id:
        return _error(400, "missing_header", "X-Shopify-Topic and X-Shopify-Webhook-Id are needed.")
    try:
        payload = parse_json(body)
    except BadJSON:
        return _error(400, "bad_json", "The body is not JSON.")
    recorded = shopify.shopify_webhook_record(
        store=store,
        topic=topic,
        webhook_id=webhook_id,
        payload=payload,
        api_version=request.headers.get("X-Shopify-API-Version", ""),
        triggered_at=request.headers.get("X-Shopify-Triggered-At", ""),
    )
    return JsonResponse({"ok": True, "duplicate": recorded.duplicate})
