"""`{% live "tracking/_part.html" %}`: a part of a page rendered for each request.

An ordinary include, except while the page is rendered for the page cache
(`tracking.page_cache`): then it leaves a marker, and each request puts its own rendering of the
part (CSRF token, cooldown, language links, messages) in its place.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from tracking.page_cache import LIVE_PARTS, live_marker

register = template.Library()


@register.simple_tag(takes_context=True)
def live(context: template.Context, template_name: str) -> SafeString:
    parts = context.get(LIVE_PARTS)
    if parts is not None:
        parts.append(template_name)
        return mark_safe(live_marker(template_name))  # noqa: S308 (our own comment, no input)
    part = context.template.engine.get_template(template_name)
    return part.render(context)
