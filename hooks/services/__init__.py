"""The hooks app's writes, one module per sub-domain (re-exported here)."""

from .directory import endpoint_store_add, endpoint_stores_refresh, stores_maybe_with_endpoints
from .endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from .recording import DELIVERY_SEND, deliveries_record
from .sending import (
    ATTEMPT_SEND,
    DISABLE_AFTER,
    RETRY_FOR,
    deliveries_due,
    retry_delay,
    webhook_attempt_send,
    webhook_deliveries_dispatch_due,
    webhook_delivery_redeliver,
    webhook_delivery_send,
)

__all__ = [
    "ATTEMPT_SEND",
    "DELIVERY_SEND",
    "DISABLE_AFTER",
    "RETRY_FOR",
    "deliveries_due",
    "deliveries_record",
    "endpoint_store_add",
    "endpoint_stores_refresh",
    "stores_maybe_with_endpoints",
    "retry_delay",
    "webhook_attempt_send",
    "webhook_deliveries_dispatch_due",
    "webhook_delivery_redeliver",
    "webhook_delivery_send",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
]
