"""Ops see every shopper e-mail and its state (read-only), the stores' choices and unsubscribes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import NotificationSettings, OrderUnsubscribe, ShopperEmail


@admin.register(ShopperEmail)
class ShopperEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "store", "status", "to_email", "state", "attempts", "sent_at")
    list_filter = ("state", "status", "is_test")
    search_fields = ("to_email", "shipment__tracking_number", "order__order_number")
    list_select_related = ("store",)
    raw_id_fields = ("shipment", "order")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("store", "enabled", "statuses", "updated_at")


@admin.register(OrderUnsubscribe)
class OrderUnsubscribeAdmin(admin.ModelAdmin):
    list_display = ("order", "created_at")
    raw_id_fields = ("order",)
