"""Small guards for shopper-facing output: only http(s) links, a validated accent colour with
readable companions, a masked e-mail address."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from shipments.carriers import actual, catalogue

DEFAULT_ACCENT = "#1f5fbf"
# The darkest surface accent-coloured text (links) sits on: the page's `--bg` in tracking.css.
# Ink readable on it is readable on the white panels too.
PAGE_BACKGROUND = "#f4f6f8"
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def http_url(value: str | None) -> str | None:
    """`value` if it is an absolute http(s) URL with a host, else None (no `javascript:` etc.)."""
    if not value:
        return None
    value = value.strip()
    if any(ch in value for ch in "\x00\r\n\t "):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def carrier_public_url(carrier: str, tracking_number: str) -> str | None:
    """The carrier's own public tracking page for this number, when it has one (http(s) only)."""
    return http_url(catalogue.public_tracking_url(carrier, tracking_number))


def real_carrier_url(url: str) -> str | None:
    """An aggregator-reported carrier link (`Shipment.actual_carrier_url`), when it is http(s)
    and does not lead to the aggregator."""
    return http_url(actual.carrier_link(url))


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@example.com` (no more than the first character)."""
    local, sep, domain = (email or "").partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


# --- Colour ---------------------------------------------------------------------------------------


def accent_colour(value: str | None) -> str:
    """The store's accent colour if it is a plain `#rrggbb`, else the product default."""
    if value and _HEX_COLOUR.match(value):
        return value.lower()
    return DEFAULT_ACCENT


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two `#rrggbb` colours (1 … 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def on_accent(accent: str) -> str:
    """Black or white, whichever reads better on the accent colour."""
    return "#ffffff" if contrast(accent, "#ffffff") >= contrast(accent, "#000000") else "#000000"


def accent_ink(accent: str, *, background: str = PAGE_BACKGROUND, ratio: float = 4.5) -> str:
    """The accent, darkened just enough to be readable as text on `background` (WCAG AA; the
    default is the page's background, so links read on it and on the white panels)."""
    rgb = _rgb(accent)
    colour = accent
    factor = 1.0
    while contrast(colour, background) < ratio and factor > 0:
        factor -= 0.05
        colour = _hex(tuple(c * factor for c in rgb))
    return colour


def theme_css(accent_value: str | None) -> str:
    """The per-store stylesheet: custom properties only, from a validated colour."""
    accent = accent_colour(accent_value)
    return (
        ":root {\n"
        f"  --accent: {accent};\n"
        f"  --on-accent: {on_accent(accent)};\n"
        f"  --accent-ink: {accent_ink(accent)};\n"
        "}\n"
    )
