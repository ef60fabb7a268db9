"""Sign-in throttling: the project's glue around django-axes (settings: "Sign-in throttling").

django-axes counts failed sign-ins in the cache, one counter per username and one per client IP
(`client_ip`, so `TRUSTED_PROXY_COUNT` is honoured). Its backend comes first in
`AUTHENTICATION_BACKENDS`, so a locked-out attempt is refused before `ModelBackend` hashes any
password. Here: that backend and that handler as the site uses them, the username's counter
name, and the 429 answer.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_cache_keys, get_failure_limit
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shipments.redis_client import RedisError, get_redis
from shipments.responses import json_error, wants_json

log = logging.getLogger(__name__)


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' checking backend for sign-ins that come with a request.

    Without a request there is no client to count (the test client's `login()`, a shell): such a
    call is left to the next backend instead of failing. Every sign-in form passes its request.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


class SignInCounters(AxesCacheHandler):
    """django-axes' cache handler, except that Redis being down does not break signing in.

    Without Redis nothing is counted and nobody is locked out (logged as an error): the sign-in
    form keeps working as it did before the throttle, rather than answering 500 to everybody.
    """

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        try:
            return super().get_failures(request, credentials)
        except RedisError:
            log.error("Sign-in throttle: Redis does not answer; this attempt is not checked")
            return 0

    def user_login_failed(self, sender: Any, credentials: dict, request=None, **kwargs: Any):
        try:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        except RedisError:
            log.error("Sign-in throttle: Redis does not answer; this failure is not counted")
            return None


def username_bucket(request: HttpRequest, credentials: dict | None) -> str:
    """The name of a username's counter (`AXES_USERNAME_CALLABLE`).

    django-axes names a counter after its value alone; the prefix keeps a username such as
    "203.0.113.7" from sharing the counter of that client address.
    """
    field = get_user_model().USERNAME_FIELD
    source = credentials if credentials else request.POST
    return f"user:{source.get(field) or ''}"


def seconds_left(request: HttpRequest, credentials: dict | None) -> int:
    """How long until the lock on this request's username or client ends (the longer of the two
    when both are locked), from the counters' own expiry in Redis."""
    cache = get_cache()
    limit = get_failure_limit(request, credentials)
    window = get_cache_timeout(request) or 0
    left = 0
    for key in get_client_cache_keys(request, credentials):
        try:
            if (cache.get(key) or 0) < limit:
                continue
            ttl = get_redis().ttl(cache.make_key(key))
        except RedisError:
            ttl = -1
        left = max(left, ttl if ttl > 0 else window)
    return left or window


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The answer to a refused sign-in (`AXES_LOCKOUT_CALLABLE`): 429 with `Retry-After`, as JSON
    for clients that ask for it, else a page that says why and for how long."""
    retry_after = seconds_left(request, credentials)
    minutes = max(1, math.ceil(retry_after / 60))
    message = ngettext(
        "Too many failed sign-in attempts for this username or from your network. "
        "Please try again in %(minutes)d minute.",
        "Too many failed sign-in attempts for this username or from your network. "
        "Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    if wants_json(request):
        return json_error(message, 429, retry_after=retry_after)
    page = render(
        request,
        "registration/locked_out.html",
        {"message": message, "title": _("Sign-in paused"), "minutes": minutes},
        status=429,
    )
    page["Retry-After"] = str(retry_after)
    return page
