from django.apps import AppConfig


class HooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hooks"
    verbose_name = "Webhooks to the merchant's systems"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from shipments.signals import shipments_changed

        from .models import WebhookEndpoint
        from .receivers import note_endpoint_store, record_deliveries

        shipments_changed.connect(record_deliveries, dispatch_uid="hooks.record_deliveries")
        post_save.connect(
            note_endpoint_store, sender=WebhookEndpoint, dispatch_uid="hooks.note_endpoint_store"
        )
