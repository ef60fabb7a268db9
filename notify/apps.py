from django.apps import AppConfig


class NotifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notify"
    verbose_name = "Shopper e-mails"

    def ready(self) -> None:
        # The apply service announces news inside its transaction; the receiver records the
        # e-mails to send in that same transaction (notify/services/recording.py).
        from shipments.signals import shipments_changed

        from .services.recording import shopper_emails_record_changes

        shipments_changed.connect(
            shopper_emails_record_changes, dispatch_uid="notify.shopper_emails_record_changes"
        )
