"""Answers shared by the merchant and public views: content negotiation and the contract's
refusal/unavailable shapes (docs/contract.md §5), so both places answer alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from resync_site.client_ip import client_ip  # noqa: F401  (re-exported for the views)
from resync_site.jsonbody import BadJSON, parse_json

from .messages import UNAVAILABLE
from .redis_client import RedisUnavailable
from .services import ResyncVerdict


def wants_json(request: HttpRequest) -> bool:
    """JSON when the client asks for it (`Accept: application/json`), HTML otherwise."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept.split(",")[0]


def posted_field(request: HttpRequest, name: str) -> str:
    """A field of a form post, or of a JSON body for scripted clients ("" when absent or
    ambiguous: a field sent twice is not guessed at)."""
    if name in request.POST:
        values = request.POST.getlist(name)
        return values[0] if len(values) == 1 else ""
    if request.content_type == "application/json":
        try:
            body = parse_json(request.body or b"{}")
        except BadJSON:
            return ""
        value = body.get(name, "") if isinstance(body, dict) else ""
        return value if isinstance(value, str) else ""
    return ""


def unreadable_json(request: HttpRequest) -> bool:
    """A JSON body that is not JSON (or nested absurdly deep): the view answers 400 rather than
    acting on defaults."""
    if request.content_type != "application/json" or not request.body:
        return False
    try:
        parse_json(request.body)
    except BadJSON:
        return True
    return False


def json_error(message: str, status: int, *, retry_after: int | None = None, **extra: Any):
    body: dict[str, Any] = {"error": message, **extra}
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _problem_page(
    request: HttpRequest, message: str, status: int, retry_after: int, back: str
) -> HttpResponse:
    """The same refusal for a browser without JavaScript: a small page with a way back."""
    response = render(
        request,
        "resync_problem.html",
        {"message": message, "back_url": back, "retry_after": retry_after},
        status=status,
    )
    response["Retry-After"] = str(retry_after)
    return response


def refused(request: HttpRequest, verdict: ResyncVerdict, *, back: str) -> HttpResponse:
    """429 + Retry-After + a human message, as JSON or as a page linking `back`."""
    if wants_json(request):
        return json_error(
            verdict.message, 429, retry_after=verdict.retry_after, reason=verdict.reason
        )
    return _problem_page(request, verdict.message, 429, verdict.retry_after, back)


def unavailable(request: HttpRequest, *, back: str) -> HttpResponse:
    """503 + Retry-After when Redis or the broker does not answer."""
    message = str(UNAVAILABLE)
    retry_after = RedisUnavailable.retry_after
    if wants_json(request):
        return json_error(message, 503, retry_after=retry_after)
    return _problem_page(request, message, 503, retry_after, back)


def bad_request(request: HttpRequest, message: str, *, back: str) -> HttpResponse:
    if wants_json(request):
        return json_error(message, 400)
    messages.error(request, message)
    return redirect(back)


def resync_or_refusal(
    request: HttpRequest, ask: Callable[[], ResyncVerdict], *, back: str
) -> ResyncVerdict | HttpResponse:
    """Ask for a resync: the accepted verdict, or the answer that refuses it (503 + Retry-After
    when Redis or the broker is down, 429 + Retry-After when cooling down)."""
    try:
        verdict = ask()
    except RedisUnavailable:
        return unavailable(request, back=back)
    if not verdict.accepted:
        return refused(request, verdict, back=back)
    return verdict
