"""Helpers the carrier adapter tests import: canned payloads, log records, OAuth tokens."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from shipments.carriers.base import TrackingResult
from shipments.tests.replay import ReplayServer

PAYLOADS = Path(__file__).parent / "payloads"

# The token endpoints of the OAuth carriers, as replay rules match them.
TOKEN_PATHS = {
    "ups": r"^/security/v1/oauth/token$",
    "fedex": r"^/oauth/token$",
    "usps": r"^/oauth2/v3/token$",
}


def load_payload(carrier: str, name: str) -> Any:
    """`payloads/<carrier>/<name>`, parsed (a fresh copy each time)."""
    return json.loads((PAYLOADS / carrier / name).read_text())


def payload_loader(carrier: str) -> Callable[[str], Any]:
    """`load(name)`: `load_payload(carrier, name)`, for a test module of that carrier."""
    return partial(load_payload, carrier)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def parse_one(module: ModuleType, name: str, number: str) -> TrackingResult:
    """The result for `number` of the module's `parse_track_response` on a canned payload."""
    outcome = module.parse_track_response(load_payload(module.CARRIER, name), requested=[number])
    assert outcome.errors == {}
    return outcome.results[number]


def warnings_of(caplog: pytest.LogCaptureFixture, module: ModuleType) -> list[str]:
    """The messages of warnings (and worse) that `module`'s own logger wrote."""
    return [r.getMessage() for r in caplog.records if r.name == module.__name__ and r.levelno >= 30]


def add_token(replay: ReplayServer, carrier: str, token: str, **rule: Any) -> None:
    """The carrier's token endpoint answers its canned token answer, with `token` in it."""
    body = {**load_payload(carrier, "token.json"), "access_token": token}
    replay.add("POST", TOKEN_PATHS[carrier], json=body, **rule)
