"""The carrier that really carries a parcel tracked through an aggregator (17TRACK, AfterShip).

Aggregators answer with the carrier they found for the number. Adapters turn that into our
catalogue code when it is one of our own carriers, else keep the provider's own name; this module
gives the link to that carrier's own public tracking page. Free of Django (docs/carriers.md §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from . import catalogue

# Public tracking pages of other carriers aggregators often report, by `catalogue.name_key` of
# their name; `{number}` is the URL-quoted tracking number. Carriers not listed get no link.
OTHER_TRACKING_URLS: dict[str, str] = {
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "parcelforce": "https://www.parcelforce.com/track-trace?trackNumber={number}",
    "canada post": (
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}"
    ),
    "australia post": "https://auspost.com.au/mypost/track/details/{number}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{number}",
    "la poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    "japan post": (
        "https://trackings.post.japanpost.jp/services/srv/search/direct"
        "?reqCodeNo1={number}&locale=en"
    ),
    "singapore post": "https://www.singpost.com/track-items?trackingid={number}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{number}",
    "gls": "https://gls-group.com/track/{number}",
    "evri": "https://www.evri.com/track/parcel/{number}",
}

_AGGREGATOR_WORDS = tuple(
    word
    for code in catalogue.AGGREGATOR_CODES
    for word in (code, catalogue.name_key(catalogue.BY_CODE[code].name))
)


def names_an_aggregator(value: str) -> bool:
    """True when a carrier name, code or link mentions an aggregator (never shown as carrier)."""
    folded = catalogue.name_key(value).replace(" ", "")
    return any(word.replace(" ", "") in folded for word in _AGGREGATOR_WORDS)


def own_carrier(code: str) -> catalogue.CarrierInfo | None:
    """The catalogue entry of `code` when it is one of our own (non-aggregator) carriers."""
    info = catalogue.get(code)
    return info if info is not None and not info.aggregator else None


def tracking_url(code: str, name: str, tracking_number: str) -> str:
    """The real carrier's own tracking page for this number, or "" when we know none.

    Our own carriers link as everywhere else (`catalogue.public_tracking_url`); other carriers
    through `OTHER_TRACKING_URLS`.
    """
    if own_carrier(code) is not None:
        return catalogue.public_tracking_url(code, tracking_number) or ""
    template = OTHER_TRACKING_URLS.get(catalogue.name_key(name))
    return template.format(number=quote(tracking_number, safe="")) if template else ""


def carrier_link(url: str) -> str:
    """`url` when it is an http(s) link that does not lead to an aggregator, else ""."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return "" if names_an_aggregator(parts.hostname) else url


# --- What each aggregator says -------------------------------------------------------------------

# 17TRACK carrier keys (`provider.key`, the item's `carrier`) of our own carriers: exact.
SEVENTEENTRACK_KEYS: dict[int, str] = {
    100001: "dhl",  # DHL Express
    7041: "dhl",  # DHL Paket / Deutsche Post
    100002: "ups",
    100003: "fedex",
    21051: "usps",
}

# AfterShip courier slugs of our own carriers: exact.
AFTERSHIP_SLUGS: dict[str, str] = {
    "dhl": "dhl",
    "dhl-germany": "dhl",
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
}
# AfterShip answers name the courier by slug only: the names of common ones. Other slugs are
# shown as words ("other-post" → "Other Post").
AFTERSHIP_NAMES: dict[str, str] = {
    "royal-mail": "Royal Mail",
    "parcel-force": "Parcelforce",
    "canada-post": "Canada Post",
    "australia-post": "Australia Post",
    "postnl": "PostNL",
    "postnl-international": "PostNL",
    "la-poste-colissimo": "La Poste",
    "japan-post": "Japan Post",
    "singapore-post": "Singapore Post",
    "china-post": "China Post",
    "china-ems": "China EMS",
    "deutsch-post": "Deutsche Post",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Evri",
    "yanwen": "Yanwen",
    "4px": "4PX",
}

ActualCarrier = tuple[str, str, str]  # (code, name, url); ("", "", "") when not known


def _actual(code: str, name: str, url: str, tracking_number: str) -> ActualCarrier:
    info = own_carrier(code)
    if info is not None:
        name = info.name
    if not name or names_an_aggregator(name) or names_an_aggregator(code):
        return "", "", ""
    return code, name, carrier_link(url) or tracking_url(code, name, tracking_number)


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def from_17track(item: Mapping[str, Any], tracking_number: str) -> ActualCarrier:
    """The carrier of a `gettrackinfo` item: the provider whose key is the item's `carrier` (the
    carrier the number is registered with), else the first provider named."""
    tracking = _mapping(_mapping(item.get("track_info")).get("tracking"))
    providers = [_mapping(p).get("provider") for p in tracking.get("providers") or []]
    providers = [p for p in providers if isinstance(p, Mapping)]
    providers = [p for p in providers if _text(p.get("name")) or _text(p.get("alias"))]
    wanted = _text(item.get("carrier"))
    chosen = next((p for p in providers if _text(p.get("key")) == wanted), None)
    if chosen is None and providers:
        chosen = providers[0]
    if chosen is None:
        return "", "", ""
    key = _text(chosen.get("key"))
    code = SEVENTEENTRACK_KEYS.get(int(key), key) if key.lstrip("-").isdigit() else key
    name = _text(chosen.get("name")) or _text(chosen.get("alias"))
    return _actual(code, name, "", tracking_number)


def from_aftership(tracking: Mapping[str, Any], tracking_number: str) -> ActualCarrier:
    """The courier of an AfterShip tracking: its `slug`, and `courier_tracking_link` (the parcel
    on the courier's own site) when AfterShip gives one."""
    slug = _text(tracking.get("slug")).lower()
    if not slug:
        return "", "", ""
    code = AFTERSHIP_SLUGS.get(slug, slug)
    name = AFTERSHIP_NAMES.get(slug) or slug.replace("-", " ").title()
    return _actual(code, name, _text(tracking.get("courier_tracking_link")), tracking_number)
