"""Carrier code → adapter. Adapters are built once per process."""

from __future__ import annotations

import importlib
from functools import cache

from .base import CarrierAdapter

_ADAPTERS = {
    "dhl": "shipments.carriers.dhl:DHLAdapter",
    "ups": "shipments.carriers.ups:UPSAdapter",
    "fedex": "shipments.carriers.fedex:FedExAdapter",
    "usps": "shipments.carriers.usps:USPSAdapter",
    "17track": "shipments.carriers.seventeentrack:SeventeenTrackAdapter",
    "aftership": "shipments.carriers.aftership:AfterShipAdapter",
    "sandbox": "shipments.carriers.sandbox_adapter:SandboxAdapter",
}

CARRIER_CODES = tuple(_ADAPTERS)


class UnknownCarrier(KeyError):
    pass


@cache
def get_adapter(code: str) -> CarrierAdapter:
    try:
        path = _ADAPTERS[code]
    except KeyError:
        raise UnknownCarrier(code) from None
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)()
