"""Connect's services: the only way anything writes the ways in's records (API keys, Shopify
webhooks); shipments themselves are written through `shipments.services` (ingest, corrections).

Views, the API, admin actions, management commands and tasks parse their input and call one of
these.
"""

from .api_keys import (
    KEY_PREFIX,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)

__all__ = ["KEY_PREFIX", "api_key_authenticate", "api_key_create", "api_key_revoke"]
