"""The small output guards of the public pages."""

from __future__ import annotations

import pytest
from django.conf import settings

from tracking.safety import (
    DEFAULT_ACCENT,
    PAGE_BACKGROUND,
    accent_colour,
    accent_ink,
    carrier_public_url,
    contrast,
    http_url,
    mask_email,
    on_accent,
    theme_css,
)
from tracking.security import content_security_policy


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/logo.png", "https://example.com/logo.png"),
        ("http://example.com/x", "http://example.com/x"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("https://", None),
        ("https://exa mple.com", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(value, expected):
    assert http_url(value) == expected


def test_carrier_public_url_quotes_the_number_and_knows_unknown_carriers():
    url = carrier_public_url("dhl", "JD01 & <x>")
    assert url is not None
    assert url.startswith("https://")
    assert " " not in url
    assert "<" not in url
    assert carrier_public_url("no-such-carrier", "1") is None
    assert carrier_public_url("sandbox", "1") is None  # no public page


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("J@example.com", "J***@example.com"),
        ("not-an-email", "***"),
        ("", "***"),
    ],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


def test_accent_colour_is_validated_and_readable():
    assert accent_colour("#ABCDEF") == "#abcdef"
    for bad in ("red", "#fff", "#12345g", "#123456;}", "", None, "url(x)"):
        assert accent_colour(bad) == DEFAULT_ACCENT
    for accent in ("#ffff00", "#1f5fbf", "#000000", "#e6e6e6", "#0a7d55", "#3fa34d", "#767676"):
        # Links in the accent read on the white panels and on the grey page (WCAG AA).
        assert contrast(accent_ink(accent), "#ffffff") >= 4.5
        assert contrast(accent_ink(accent), PAGE_BACKGROUND) >= 4.5
        # Text on the accent (buttons, the done marker) too, whichever colour the store picks.
        assert contrast(on_accent(accent), accent) >= 4.5
    # The background the ink is made for is the stylesheet's own.
    stylesheet = (settings.BASE_DIR / "static" / "css" / "tracking.css").read_text()
    assert f"--bg: {PAGE_BACKGROUND};" in stylesheet
    css = theme_css("#ffff00")
    assert css.startswith(":root {")
    assert "--accent: #ffff00;" in css
    assert "--on-accent: #000000;" in css


def test_policy_never_allows_inline_code(settings):
    settings.TRACK_FRAME_ANCESTORS = []
    policy = content_security_policy()
    assert "unsafe-inline" not in policy
    assert policy.endswith("frame-ancestors 'none'")
    settings.TRACK_FRAME_ANCESTORS = ["https://shop.example", "'self'", "*; script-src *"]
    assert content_security_policy().endswith("frame-ancestors https://shop.example 'self'")
