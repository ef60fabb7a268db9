"""`Authorization: Bearer <key>`: the store's API key, then its request rate limit.

Bearer keys are not cookies: a browser never sends one by itself, so no CSRF check applies (and
ninja's views are exempt from Django's); a request without a valid key gets 401.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from connect import services
from connect.models import ApiKey

from .errors import ApiError
from .ratelimit import retry_after_for


class ApiKeyAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> ApiKey | None:
        # As ninja's, without logging the header of a request that is not Bearer.
        scheme, _sep, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = services.api_key_authenticate(raw_key=token)
        if key is None:
            return None
        retry_after = retry_after_for(key.pk)
        if retry_after:
            raise ApiError(
                429,
                f"Too many requests with this API key: try again in {retry_after} s.",
                code="rate_limited",
                retry_after=retry_after,
            )
        return key
