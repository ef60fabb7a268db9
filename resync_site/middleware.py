"""The site's own middleware.

`SiteCSPMiddleware`: django-csp's, with the admin's allowances (resync_site/csp.py).

`JsonErrorsMiddleware`: JSON clients get JSON errors (SPEC §10). The answers Django itself
writes as HTML or as a redirect — 405 from `require_POST`/`require_safe`, and the sign-in redirect
of an anonymous request — are rewritten for a request that sends `Accept: application/json`.
Views that answer JSON already (404, 400, 429 and the rest) pass through untouched; 400, 403,
404 and 500 raised as exceptions meet the JSON-aware handlers in `shipments.error_views`.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from shipments.responses import wants_json

from .csp import ADMIN_ALLOWANCES, ADMIN_PREFIX


class SiteCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's allowances on `/admin/` pages."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIX):
            parts.update = {**(parts.update or {}), **ADMIN_ALLOWANCES}
        return parts


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not wants_json(request) or _is_json(response):
            return response
        if response.status_code == 405:
            answer = JsonResponse({"error": _("Method not allowed.")}, status=405)
            if "Allow" in response:
                answer["Allow"] = response["Allow"]
            return answer
        if response.status_code == 302 and self._to_sign_in(request, response):
            answer = JsonResponse({"error": _("Sign in first.")}, status=401)
            answer["WWW-Authenticate"] = 'Session realm="resync"'
            return answer
        return response

    @staticmethod
    def _to_sign_in(request: HttpRequest, response: HttpResponse) -> bool:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return False
        location = response.get("Location", "")
        return location.split("?", 1)[0] == resolve_url(settings.LOGIN_URL)
