"""The merchant API's errors: one shape for all of them, never a stack trace.

    {"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}, "retry_after": 5}}

`fields` only on validation errors (400), `retry_after` (and the `Retry-After` header, whole
seconds ≥ 1) only on 429 and 503.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger("connect.api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    503: "unavailable",
}
# Where ninja says a value came from; the field's name is what follows it.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class ApiError(Exception):
    """An answer other than success, raised from an endpoint or the auth."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        retry_after: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.retry_after = retry_after
        self.fields = fields


def error_response(error: ApiError) -> JsonResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields is not None:
        body["fields"] = error.fields
    if error.retry_after is not None:
        body["retry_after"] = error.retry_after
    response = JsonResponse({"error": body}, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _field_name(loc: tuple[Any, ...], body_params: set[str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "Invalid value."))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "missing":
        return "This field is required." if loc_field(error) != "body" else "Send a JSON object."
    if error.get("type") in ("model_attributes_type", "dict_type"):
        return "Send a JSON object."
    return message


def loc_field(error: dict[str, Any]) -> str:
    """The field a validation error is about (`body` for the body as a whole)."""
    return _field_name(tuple(error.get("loc", ())), {"payload"})


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """ninja's validation errors as `{"field": ["message", …]}`."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(loc_field(error), []).append(_message(error))
    return fields


def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc)


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        ApiError(
            400,
            "Please correct the fields.",
            code="validation_error",
            fields=validation_fields(exc.errors),
        )
    )


def _on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if request.headers.get("Authorization"):
        message = "The API key is wrong or has been revoked."
    else:
        message = "Send your API key in the header 'Authorization: Bearer <key>'."
    return error_response(ApiError(401, message))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = "The request body is not valid JSON."
    return error_response(ApiError(exc.status_code, message))


def _on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(ApiError(404, str(exc) or "Not found."))


def _on_anything_else(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("merchant API error on %s %s", request.method, request.path)
    return error_response(ApiError(500, "Something went wrong on our side.", code="server_error"))


def install_error_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(ApiError, _on_api_error)
    api.add_exception_handler(ValidationError, _on_validation)
    api.add_exception_handler(AuthenticationError, _on_authentication)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(Http404, _on_404)
    api.add_exception_handler(Exception, _on_anything_else)
