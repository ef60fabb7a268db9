"""Headers every /track/ response carries, and the 404 those pages answer with.

The tracking pages are public, unindexed and may be embedded only by the origins listed in
`TRACK_FRAME_ANCESTORS`. They run no inline script or style, so the policy allows none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from shipments.responses import wants_json

# A source expression of CSP: a scheme, a host (with optional scheme, wildcard and port) or
# 'self'. Anything else in the setting is dropped rather than allowed to break the header.
_SOURCE = re.compile(r"^(?:'self'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?[\w.*-]+(?::\d+)?)$")


def frame_ancestors() -> list[str]:
    sources = getattr(settings, "TRACK_FRAME_ANCESTORS", []) or []
    return [s for s in (str(v).strip() for v in sources) if _SOURCE.match(s)]


def content_security_policy() -> str:
    ancestors = " ".join(frame_ancestors()) or "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' https: data:; frame-ancestors {ancestors}"
    )


def apply_headers(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = content_security_policy()
    response["X-Content-Type-Options"] = "nosniff"
    # "same-origin": the token in the URL never reaches a carrier or logo host, while the
    # browser still sends its Origin with our own POSTs (which CSRF checks rely on).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    if frame_ancestors():
        # The store embeds the page: frame-ancestors decides; X-Frame-Options would forbid it.
        response.xframe_options_exempt = True
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
    else:
        response["X-Frame-Options"] = "DENY"
    return response


def not_found(request: HttpRequest) -> HttpResponse:
    """The one "not found" of the public pages: no hint whether a token ever existed."""
    message = _("We could not find this tracking page. Please check the link in your e-mail.")
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": message}, status=404)
    else:
        response = render(request, "tracking/not_found.html", {"message": message}, status=404)
    patch_vary_headers(response, ["Accept"])
    return response


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a /track/ view: security headers on every answer, and our own 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = not_found(request)
        return apply_headers(response)

    return wrapper
