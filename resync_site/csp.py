"""The Content-Security-Policy of every HTML page, and the check of `TRACK_FRAME_ANCESTORS`.

django-csp writes the header (`resync_site.middleware.SiteCSPMiddleware`); the policy is ours
(plain data here, read by the settings):
- everywhere: our own scripts, styles and fonts only (and the one inline `<style>` of the 500
  page, by nonce); images also over https (store logos);
  no plugins; forms post only to us; no framing;
- `/admin/`: Django's admin sets inline `style` attributes, so styles there may be inline;
- `/track/`: the tracking pages write their own policy (`tracking.security`), which may allow
  the store's site to frame them; the middleware leaves a header that is already set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from csp.constants import NONCE, NONE, SELF

SITE_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # NONCE: only a page that asks for `request.csp_nonce` gets one (the 500 page's inline
        # styles, which may not depend on a static file).
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "https:", "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
ADMIN_PREFIX = "/admin/"
ADMIN_ALLOWANCES = {"style-src": ["'unsafe-inline'"]}


# An origin a store may embed the tracking page in: 'self', or http(s)://host[:port] where the
# host may start with one `*.` label. No bare `*`, no scheme-only sources (`https:` would allow
# every site), no `javascript:`/`data:`.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_ANCESTOR = re.compile(
    rf"^(?:'self'|https?://(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?)$", re.IGNORECASE
)


def bad_frame_ancestors(sources: Iterable[str]) -> list[str]:
    """The entries of `TRACK_FRAME_ANCESTORS` that are not an origin we accept."""
    return [source for source in sources if not _ANCESTOR.match(str(source).strip())]
