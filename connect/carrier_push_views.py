"""`POST /webhooks/carriers/17track/` and `POST /webhooks/carriers/aftership/`: carrier push in.

Order of checks: the size (413), the signature of the raw body before anything is parsed (401,
nothing kept), the body (400: not JSON), then the push is recorded and the answer is 200 — also
for a push seen before or a number no shipment has, which change nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from resync_site.jsonbody import BadJSON, parse_json
from shipments.carriers import push as carrier_push

from .services import carrier_push as push_service


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _receive(request: HttpRequest, provider: str) -> JsonResponse:
    limit = settings.CARRIER_PUSH_MAX_BYTES
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return _error(413, "too_large", "The body is larger than a carrier push can be.")
    body = request.body
    if len(body) > limit:
        return _error(413, "too_large", "The body is larger than a carrier push can be.")
    header = request.headers.get(carrier_push.SIGNATURE_HEADERS[provider])
    if not push_service.push_verified(provider, body, header):
        return _error(401, "bad_signature", "The signature does not match the body.")
    try:
        payload = parse_json(body)
    except BadJSON:
        return _error(400, "bad_json", "The body is not JSON.")
    recorded = push_service.carrier_push_record(provider=provider, body=body, payload=payload)
    return JsonResponse({"ok": True, "known": recorded.known, "duplicate": recorded.duplicate})


@csrf_exempt  # the provider signs the body; there is no session or form here
@require_POST
def seventeentrack_push(request: HttpRequest) -> JsonResponse:
    return _receive(request, carrier_push.SEVENTEENTRACK)


@csrf_exempt  # the provider signs the body; there is no session or form here
@require_POST
def aftership_push(request: HttpRequest) -> JsonResponse:
    return _receive(request, carrier_push.AFTERSHIP)
