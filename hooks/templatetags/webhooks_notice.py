"""`{% webhooks_notice store %}`: the Shipment tab's notice about endpoints Resync turned off.

A store that never had an endpoint (the Redis directory says so) costs the page no query."""

from __future__ import annotations

from typing import Any

from django import template

from shipments.models import Store

from ..selectors import webhook_endpoints_turned_off
from ..services import stores_maybe_with_endpoints

register = template.Library()


@register.inclusion_tag("hooks/_notice.html")
def webhooks_notice(store: Store | None) -> dict[str, Any]:
    if store is None:
        return {"turned_off": []}
    maybe = stores_maybe_with_endpoints([store.pk])
    if maybe is not None and store.pk not in maybe:
        return {"turned_off": []}
    return {"turned_off": webhook_endpoints_turned_off(store=store)}
