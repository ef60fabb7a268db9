"""The shopper's language (docs/contract.md §10), in place of Django's LocaleMiddleware.

On the shopper's pages (`/track/…`) the language is, in this order:

1. `?lang=xx` on any of their URLs — and then remembered in Django's language cookie (path
   `/track/`, a year);
2. that cookie;
3. the browser's `Accept-Language`;
4. the store's default language, once the view knows the store (`use_store_language`);
5. `LANGUAGE_CODE`.

Codes outside `LANGUAGES` are ignored at every step. Every other page (the merchant app, the
admin, the API) is in `LANGUAGE_CODE` whatever the browser asks: the merchant app is English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

SHOPPER_PREFIX = "/track/"
# The shopper's pages: the tracking pages and the e-mails' unsubscribe pages.
SHOPPER_PREFIXES = (SHOPPER_PREFIX, "/notify/")
LANG_PARAM = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def supported_language(code: str | None) -> str | None:
    """`code` as one of `LANGUAGES` (`de-AT` → `de`), or None."""
    if not code or len(code) > 20 or not _CODE.match(code):
        return None
    try:
        return translation.get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    code: str
    source: str  # "param" | "cookie" | "header"


def shopper_language_choice(request: HttpRequest) -> LanguageChoice | None:
    """What the shopper asked for (steps 1–3), or None: then the store decides."""
    code = supported_language(request.GET.get(LANG_PARAM))
    if code:
        return LanguageChoice(code, "param")
    code = supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if code:
        return LanguageChoice(code, "cookie")
    for accepted, _quality in parse_accept_lang_header(
        request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    ):
        code = supported_language(accepted) if accepted != "*" else None
        if code:
            return LanguageChoice(code, "header")
    return None


def use_store_language(request: HttpRequest, language: str | None) -> None:
    """Step 4: a view that knows the store speaks its default language, unless the shopper chose."""
    if getattr(request, "shopper_language", None) is not None:
        return
    code = supported_language(language)
    if code:
        translation.activate(code)
        request.LANGUAGE_CODE = code


class ShopperLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(SHOPPER_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return self.get_response(request)

        choice = shopper_language_choice(request)
        request.shopper_language = choice  # type: ignore[attr-defined]
        code = choice.code if choice else settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        if choice is not None and choice.source == "param":
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                choice.code,
                max_age=COOKIE_MAX_AGE,
                path=SHOPPER_PREFIX,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        # The same URL answers in several languages: caches must key on what decides it.
        patch_vary_headers(response, ["Cookie", "Accept-Language"])
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
