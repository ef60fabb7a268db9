"""The tracking page's rendered HTML, timeline fragment and JSON, kept in Redis by version.

A view of the page reads one row (`token_rows.page_version_for_token`: the ids and every value
the page depends on) and looks for a rendering under a key made of that row, the language and
the code's own fingerprint (templates, translations, static manifest). A write people can see
changes the row, so the next view finds no rendering under the new key and renders from the
database: nothing is ever deleted, old keys expire (`TRACKING_PAGE_CACHE_SECONDS`, 0 turns the
cache off).

What differs per request stays out of the stored HTML: the parts marked `{% live %}` (the
resync form with its cooldown and the shopper's own last job, the language links, messages) are
stored in their usual state (no cooldown, no query string, no message) and rendered again only
for a request that differs; the CSRF token and the "Last updated 7 minutes ago" wording (which
moves every minute while the rest stands still) are put in for each request. Were that wording
part of the key, every view in the second it changes would miss at once and render the page
(bench/README.md: the paced p99).

Redis is an accelerator only: when it fails (or its circuit breaker is open) the page is
rendered from the database, with no countdown, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language

from shipments.cooldowns import shipment_key
from shipments.models import SyncOutcome
from shipments.redis_client import RedisError, get_redis

from .token_rows import PageVersion

logger = logging.getLogger(__name__)

LIVE_PARTS = "live_parts"  # context key: the page is being rendered for the cache
KEY_PREFIX = "resync:page:"
PAGE, TIMELINE, JSON = "page", "timeline", "json"


def cache_seconds() -> int:
    return int(getattr(settings, "TRACKING_PAGE_CACHE_SECONDS", 300))


@lru_cache(maxsize=1)
def _nonce() -> str:
    # Markers carry a secret: text from a carrier or a merchant cannot spell one.
    return hmac.new(settings.SECRET_KEY.encode(), b"live-part", hashlib.sha256).hexdigest()[:20]


def live_markers(template_name: str) -> tuple[str, str]:
    """The comments around a live part's default rendering in a stored page."""
    return f"<!--live:{_nonce()}:{template_name}-->", f"<!--/live:{_nonce()}:{template_name}-->"


def csrf_marker() -> str:
    """Stands for the CSRF token in a stored page (letters and digits: escaping keeps it)."""
    return f"livecsrf{_nonce()}"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What else the HTML depends on and a deployment changes: the shopper's templates, this
    package's code, the compiled translations, the static files' manifest (hashed names) and
    Django's version. Read once per process."""
    digest = hashlib.sha256(django.get_version().encode())
    base = Path(settings.BASE_DIR)
    files = [
        *sorted((base / "templates" / "tracking").glob("*.html")),
        *sorted(Path(__file__).resolve().parent.glob("*.py")),
        *sorted((base / "locale").glob("*/LC_MESSAGES/*.mo")),
    ]
    static_root = getattr(settings, "STATIC_ROOT", None)
    if static_root:
        files.append(Path(static_root) / "staticfiles.json")
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ago_marker() -> str:
    """Stands for the "Last updated" wording in a stored page (letters and digits)."""
    return f"liveago{_nonce()}"


def last_updated_text(version: PageVersion) -> str:
    """The "Last updated" wording the page shows now ("7 minutes ago"), as a fresh rendering
    would show it (`Shipment.last_updated_at`)."""
    when = version.last_success_at
    if when is None and version.last_sync_outcome != SyncOutcome.ERROR:
        when = version.last_synced_at
    return str(naturaltime(when)) if when else ""


def page_key(token: str, version: PageVersion, *, variant: str) -> str:
    """The key of one rendering: the page's row, the variant, the language and the code's
    fingerprint."""
    raw = "\x1f".join((token, variant, get_language() or "", code_fingerprint(),
                       *version.version))  # fmt: skip
    return f"{KEY_PREFIX}{version.shipment_id}:{hashlib.sha1(raw.encode()).hexdigest()}"  # noqa: S324


def fetch(key: str, version: PageVersion) -> tuple[str | None, int]:
    """The stored rendering (or None) and the shipment's cooldown in whole seconds, in one
    round trip. Redis failing: (None, 0), the page renders from the database without a
    countdown (the resync itself will say it is unavailable)."""
    cooldown = shipment_key(version.store_id, version.shipment_id)
    try:
        pipe = get_redis().pipeline(transaction=False)
        if cache_seconds() > 0:
            pipe.get(key)
        pipe.pttl(cooldown)
        *cached, ms = pipe.execute()
    except RedisError as exc:
        logger.debug("page cache unavailable: %s", exc)
        return None, 0
    seconds = -(-int(ms) // 1000) if ms and int(ms) > 0 else 0
    return (cached[0] if cached else None), seconds


def store(key: str, value: str) -> None:
    """Keep a rendering (best effort: a Redis failure only costs the next view a render)."""
    seconds = cache_seconds()
    if seconds <= 0:
        return
    try:
        get_redis().set(key, value, ex=seconds)
    except RedisError as exc:
        logger.debug("page not cached: %s", exc)


def render_for_cache(template_name: str, context: dict[str, Any]) -> str:
    """The template as stored: each `{% live %}` part rendered in its default state (the
    context's: no cooldown, no job, no query string, no message) between markers, the CSRF token
    as a marker; the names of those parts first, one line (what `splice` needs)."""
    parts: list[str] = []
    context = {
        **context,
        LIVE_PARTS: parts,
        "csrf_token": csrf_marker(),
        "last_updated_ago": ago_marker(),
    }
    html = render_to_string(template_name, context)
    return ",".join(parts) + "\n" + html


def splice(
    stored: str,
    request: HttpRequest,
    *,
    stale: Callable[[str], bool],
    live_context: Callable[[], dict[str, Any]],
    last_updated: str,
) -> str:
    """A stored rendering as this request sees it: each live part kept in its default state
    unless `stale(name)` says this request differs (then rendered with `live_context()`), the
    markers gone, this request's CSRF token and "Last updated" wording (`last_updated`) in."""
    names, _, html = stored.partition("\n")
    context: dict[str, Any] | None = None
    for name in names.split(",") if names else ():
        start, end = live_markers(name)
        i = html.find(start)
        j = html.find(end, i)
        if i < 0 or j < 0:
            continue
        inner = html[i + len(start) : j]
        if stale(name):
            if context is None:
                context = live_context()
            inner = render_to_string(name, context, request)
        html = html[:i] + inner + html[j + len(end) :]
    marker = csrf_marker()
    if marker in html:
        html = html.replace(marker, get_token(request))
    return html.replace(ago_marker(), escape(last_updated))
