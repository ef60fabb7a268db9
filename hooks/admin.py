from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "store", "is_active", "failing_since", "disabled_at", "created_at")
    list_filter = ("is_active",)
    exclude = ("secret",)  # never shown, not even to ops
    readonly_fields = ("store", "created_at", "failing_since", "disabled_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("uid", "event", "endpoint", "state", "attempts", "created_at")
    list_filter = ("state", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
