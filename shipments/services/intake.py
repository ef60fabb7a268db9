"""Shipments coming in from a shop (Shopify webhooks, the merchant API, CSV import): which
carrier a shop's carrier name means, and the store's own names for carriers.

A carrier is found, in this order, by the catalogue's names for it, by the store's own mappings,
then by the tracking number's format; when nothing fits there is no carrier (never a guess).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ..carriers import catalogue
from ..carriers.numbers import detect_carrier
from ..models import Store, StoreCarrierMapping


@dataclass(frozen=True)
class CarrierMatch:
    code: str | None  # None: no carrier fits (the shipment is kept, and needs one)
    found_by: str  # "catalogue", "store_mapping", "number_format" or "nothing"


def carrier_resolve(
    *,
    store: Store,
    name: str = "",
    tracking_number: str = "",
    mappings: dict[str, str] | None = None,
) -> CarrierMatch:
    """The carrier a shop means by `name` (a code or a carrier name), for `tracking_number`.

    `mappings` (name key → carrier code) are the store's own names when the caller read them
    already (a whole import); else they are looked up here.
    """
    key = catalogue.name_key(name)
    if key:
        if code := catalogue.BY_NAME.get(key):
            return CarrierMatch(code, "catalogue")
        if mappings is not None:
            mapped = mappings.get(key)
        else:
            mapped = (
                StoreCarrierMapping.objects.filter(store=store, name_key=key)
                .values_list("carrier", flat=True)
                .first()
            )
        if mapped:
            return CarrierMatch(mapped, "store_mapping")
    if code := detect_carrier(tracking_number):
        return CarrierMatch(code, "number_format")
    return CarrierMatch(None, "nothing")


def store_carrier_mapping_set(*, store: Store, name: str, carrier: str) -> StoreCarrierMapping:
    """Say that the store's shop calls `carrier` by `name` (replacing what it said before).

    Raises `ValidationError` (the model's rules) for an empty or over-long name, a name the
    catalogue already knows (it would never be read), and a carrier that is not in the catalogue.
    """
    key = catalogue.name_key(name)
    with transaction.atomic():
        mapping = StoreCarrierMapping.objects.select_for_update().filter(
            store=store, name_key=key
        ).first() or StoreCarrierMapping(store=store)
        mapping.name = " ".join(name.split())
        mapping.carrier = carrier
        mapping.full_clean()
        mapping.save()
    return mapping


def store_carrier_mapping_delete(*, store: Store, mapping_id: int) -> bool:
    """Forget one of the store's names (another store's mapping is never touched)."""
    deleted, _by_model = StoreCarrierMapping.objects.filter(store=store, pk=mapping_id).delete()
    return bool(deleted)
