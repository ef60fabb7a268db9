"""`/api/v1/` (included by resync_site.urls): the API's endpoints, its schema and docs page, and
a JSON 404 for every other URL under it (never the site's HTML pages)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, URLPattern, URLResolver, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt

from .errors import ApiError, error_response
from .instance import api


def _json_refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a wrong method with a plain-text 405: answer it in the errors' shape."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            refusal = error_response(ApiError(405, f"Use {allowed or 'another method'}."))
            refusal["Allow"] = allowed
            return refusal
        return response

    return wrapper


def _patterns() -> list[URLPattern | URLResolver]:
    patterns, _app, _namespace = api.urls
    return [
        URLPattern(p.pattern, _json_refusals(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]


@csrf_exempt
def index(request: HttpRequest) -> JsonResponse:
    """`/api/v1/`: where the documentation is."""
    return JsonResponse(
        {
            "name": api.title,
            "docs": request.build_absolute_uri("docs"),
            "openapi": request.build_absolute_uri("openapi.json"),
        }
    )


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    message = "No such API endpoint."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message += f" Did you mean {request.path}/ (with a trailing slash)?"
    return error_response(ApiError(404, message))


urlpatterns = [
    path("", index, name="api_index"),
    path("", (_patterns(), "ninja", api.urls_namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
