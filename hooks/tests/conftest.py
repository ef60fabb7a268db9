"""Fixtures of the webhooks tests (the shared ones come from the root conftest)."""

from .receiver import private_urls_allowed, receiver  # noqa: F401  (fixtures)
