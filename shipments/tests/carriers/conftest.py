"""Fixtures of the carrier adapter tests (helpers to import are in `support`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shipments.tests.replay import ReplayServer


@pytest.fixture
def carrier_api(settings, replay: ReplayServer) -> Callable[..., ReplayServer]:
    """`carrier_api(code, credentials)`: the carrier's API is the `replay` server from now on.

    The carrier's credentials are set (when given) and our own rate limiter is off for it.
    """

    def point(code: str, credentials: dict[str, Any] | None = None) -> ReplayServer:
        settings.CARRIER_API_BASE_URLS = {**settings.CARRIER_API_BASE_URLS, code: replay.url}
        if credentials is not None:
            settings.CARRIER_CREDENTIALS = {**settings.CARRIER_CREDENTIALS, code: credentials}
        settings.CARRIER_RATE_LIMITS = {**settings.CARRIER_RATE_LIMITS, code: 0}
        return replay

    return point
