"""Services of shopper e-mails: the only way anything writes their rows.

- `recording`: the `shipments_changed` receiver (one row per shipment and status, ever);
- `sending`: one e-mail over SMTP, claimed first, and the reconciler;
- `preferences`: the store's choices, the merchant's test e-mail, unsubscribing an order;
- `publishing`: the send task, published by name.
"""

from .preferences import (
    order_unsubscribe,
    store_preferences,
    store_preferences_set,
    store_test_email_send,
)
from .publishing import publish_send, publish_sends
from .recording import shopper_emails_record, shopper_emails_record_changes
from .sending import SendOutcome, shopper_email_send, shopper_emails_reconcile

__all__ = [
    "SendOutcome",
    "order_unsubscribe",
    "publish_send",
    "publish_sends",
    "shopper_email_send",
    "shopper_emails_reconcile",
    "shopper_emails_record",
    "shopper_emails_record_changes",
    "store_preferences",
    "store_preferences_set",
    "store_test_email_send",
]
