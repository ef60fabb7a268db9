"""Answers the public views share: the one 404, a 303 after a POST, never-cached answers."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers, patch_vary_headers

T = TypeVar("T")
NOT_FOUND = "no such tracking page"


def found(value: T | None) -> T:
    """The selector's answer, or the public pages' 404 (one answer for anything not found)."""
    if value is None:
        raise Http404(NOT_FOUND)
    return value


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def fresh(response: HttpResponse, *vary: str) -> HttpResponse:
    add_never_cache_headers(response)
    patch_vary_headers(response, ["Accept", *vary])
    return response
