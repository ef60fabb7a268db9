from django.apps import AppConfig


class HooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hooks"
    verbose_name = "Webhooks to the merchant's systems"

    def ready(self) -> None:
        from shipments.signals import shipments_changed

        from .receivers import record_deliveries

        shipments_changed.connect(record_deliveries, dispatch_uid="hooks.record_deliveries")
