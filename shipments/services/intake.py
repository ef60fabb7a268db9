"""Shipments coming in from a shop (Shopify webhooks, the merchant API, CSV import): which
carrier a shop's carrier name means, and the store's own names for carriers.

A carrier is found, in this order, by the catalogue's names for it, by the store's own mappings,
then by the tracking number's format; when nothing fits there is no carrier (never a guess).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..carriers import catalogue
from ..carriers.numbers import detect_carrier
from ..models import Store, StoreCarrierMapping


@dataclass(frozen=True)
class CarrierMatch:
    code: str | None  # None: no carrier fits (the shipment is kept, and needs one)
    found_by: str  # "catalogue", "store_mapping", "number_format" or "nothing"


def carrier_resolve(*, store: Store, name: str = "", tracking_number: str = "") -> CarrierMatch:
    """The carrier a shop means by `name` (a code or a carrier name), for `tracking_number`."""
    key = catalogue.name_key(name)
    if key:
        if code := catalogue.BY_NAME.get(key):
            return CarrierMatch(code, "catalogue")
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

    Raises `ValidationError` for an empty or over-long name, a name the catalogue already knows
    (it would never be read), and a carrier that is not in the catalogue.
    """
    key = catalogue.name_key(name)
    errors: dict[str, str] = {}
    if not key:
        errors["name"] = _("Enter the name your shop uses for the carrier.")
    elif len(key) > 100:
        errors["name"] = _("Use at most 100 characters.")
    elif key in catalogue.BY_NAME:
        errors["name"] = _("%(name)s is already known as %(carrier)s.") % {
            "name": name.strip(),
            "carrier": catalogue.BY_CODE[catalogue.BY_NAME[key]].name,
        }
    if catalogue.get(carrier) is None:
        errors["carrier"] = _("Choose one of the supported carriers.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        mapping, _created = StoreCarrierMapping.objects.select_for_update().update_or_create(
            store=store,
            name_key=key,
            defaults={"name": " ".join(name.split()), "carrier": carrier},
        )
    return mapping


def store_carrier_mapping_delete(*, store: Store, mapping_id: int) -> bool:
    """Forget one of the store's names (another store's mapping is never touched)."""
    deleted, _by_model = StoreCarrierMapping.objects.filter(store=store, pk=mapping_id).delete()
    return bool(deleted)
