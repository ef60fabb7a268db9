"""Carrier code → adapter, built once per process from the carrier catalogue.

Development tools may add an adapter of their own with `register` (the carrier sandbox adds its
native format this way); such a code can be asked with `manage.py track`, but it is not a
carrier a shipment can have.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from . import catalogue
from .base import CarrierAdapter

_EXTRA: dict[str, Callable[[], CarrierAdapter]] = {}


class UnknownCarrier(KeyError):
    pass


def register(code: str, factory: Callable[[], CarrierAdapter]) -> None:
    """Add a development tool's adapter under `code` (never one of the catalogue's codes)."""
    if code in catalogue.BY_CODE:
        raise ValueError(f"{code} is a product carrier")
    _EXTRA[code] = factory
    get_adapter.cache_clear()


def codes() -> tuple[str, ...]:
    """Every code an adapter answers to: the catalogue's, then the tools' own."""
    return catalogue.CODES + tuple(sorted(_EXTRA))


@cache
def get_adapter(code: str) -> CarrierAdapter:
    info = catalogue.get(code)
    if info is None:
        if code in _EXTRA:
            return _EXTRA[code]()
        raise UnknownCarrier(code)
    module_name, class_name = info.adapter.split(":")
    return getattr(importlib.import_module(module_name), class_name)()
