"""Django admin for the ways in: Shopify webhooks and carrier pushes received (read-only) and
merchant API keys (the hash is never editable)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ApiKey, CarrierPush, ShopifyWebhook


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


@admin.register(CarrierPush)
class CarrierPushAdmin(admin.ModelAdmin):
    """Pushes received from 17TRACK and AfterShip and what became of them; read-only."""

    list_display = [
        "received_at",
        "provider",
        "tracking_number",
        "event",
        "verified",
        "state",
        "applied_at",
        "attempts",
        "error",
    ]
    list_filter = ["provider", "state", "event"]
    search_fields = ["tracking_number", "error"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created by merchants or `manage.py api_key create` (the raw key is shown there,
    once); ops may look, rename and revoke (set "revoked")."""

    list_display = ("name", "prefix", "store", "created_at", "last_used_at", "revoked_at")
    list_filter = ("store",)
    search_fields = ("name", "prefix", "store__slug")
    list_select_related = ("store",)
    readonly_fields = ("store", "prefix", "key_hash", "created_by", "created_at", "last_used_at")
    fields = (
        "store",
        "name",
        "prefix",
        "key_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
