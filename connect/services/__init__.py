"""Connect's services: the only way anything writes the ways in's records (API keys, …).

Views, the API, admin actions and management commands parse their input and call one of these.
"""

from .api_keys import (
    KEY_PREFIX,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)

__all__ = ["KEY_PREFIX", "api_key_authenticate", "api_key_create", "api_key_revoke"]
