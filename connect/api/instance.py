"""The merchant API (`/api/v1/`): one NinjaAPI, Bearer API keys on every endpoint, the errors'
one shape, and its OpenAPI 3 schema (`openapi.json`) with a docs page (`docs`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from resync_site.jsonbody import parse_json

from . import progress, shipments
from .auth import ApiKeyAuth
from .errors import install_error_handlers

DESCRIPTION = """
JSON for any shop system: send shipments, list them, read one, and resync.

Authenticate with `Authorization: Bearer <key>` (keys: Settings → API keys). Errors are
`{"error": {"code", "message", "fields"?}}`; 429 and 503 carry `Retry-After` (seconds).
Each key may make `API_RATE_LIMIT_PER_SECOND` requests a second (10 by default).
See docs/api.md.
"""


class BoundedParser(Parser):
    """Bodies nested deeper than `jsonbody.MAX_DEPTH` are refused before parsing (a 400)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


api = NinjaAPI(
    title="Resync Merchant API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="merchant_api",
    auth=ApiKeyAuth(),
    parser=BoundedParser(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)
api.add_router("", shipments.router)
api.add_router("", progress.router)
