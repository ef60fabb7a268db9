"""`{% webhooks_notice store %}`: the Shipment tab's notice about endpoints Resync turned off."""

from __future__ import annotations

from typing import Any

from django import template

from shipments.models import Store

from ..selectors import webhook_endpoints_turned_off

register = template.Library()


@register.inclusion_tag("hooks/_notice.html")
def webhooks_notice(store: Store | None) -> dict[str, Any]:
    if store is None:
        return {"turned_off": []}
    return {"turned_off": webhook_endpoints_turned_off(store=store)}
