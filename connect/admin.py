"""Django admin for the ways in: Shopify webhooks received (read-only) and merchant API keys."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ShopifyWebhook


@admin.register(ShopifyWebhook)
class ShopifyWebhookAdmin(admin.ModelAdmin):
    """What Shopify sent and what became of it; written only by the system."""

    list_display = ["received_at", "store", "topic", "state", "attempts", "webhook_id", "error"]
    list_filter = ["state", "topic", "store"]
    search_fields = ["webhook_id", "store__name", "store__shop_domain", "error"]
    date_hierarchy = "received_at"
    list_select_related = ["store"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
