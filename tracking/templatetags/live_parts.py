"""`{% live "tracking/_part.html" %}`: a part of a page rendered for each request.

An ordinary include, except while the page is rendered for the page cache
(`tracking.page_cache`): then the part's default rendering is marked, so that a request that
differs (a cooldown, a query string, a message) renders it again in its place.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from tracking.page_cache import LIVE_PARTS, live_markers

register = template.Library()


@register.simple_tag(takes_context=True)
def live(context: template.Context, template_name: str) -> SafeString:
    part = context.template.engine.get_template(template_name)
    html = part.render(context)
    parts = context.get(LIVE_PARTS)
    if parts is None:
        return html
    parts.append(template_name)
    start, end = live_markers(template_name)
    return mark_safe(start + html + end)  # noqa: S308 (escaped by the part's own template)
