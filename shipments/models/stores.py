"""Stores and the people who work for them."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import delivery
from ..carriers import catalogue
from .choices import Carrier


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def language_choices() -> list[tuple[str, str]]:
    """The languages the shopper's pages speak (settings.LANGUAGES, read when asked)."""
    return list(settings.LANGUAGES)


def _validate_transit_days(value: str) -> None:
    try:
        delivery.parse_span(value)
    except delivery.BadRule:
        raise ValidationError(
            _("Use a number of days (e.g. 3) or a range (e.g. 2-4), at most %(max)d."),
            params={"max": delivery.MAX_DAYS},
        ) from None


def _validate_business_days(value: str) -> None:
    try:
        delivery.parse_business_days(value)
    except delivery.BadRule:
        raise ValidationError(
            _("Use the weekdays' numbers, 1 (Monday) to 7 (Sunday), e.g. 12345.")
        ) from None


class Store(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[_validate_time_zone]
    )
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    accent_color = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f5fbf."))],
    )
    # https only: the tracking page's CSP loads images from https: (and never mixed content).
    logo_url = models.URLField(
        _("logo URL"), blank=True, validators=[URLValidator(schemes=["https"])]
    )
    # The connected Shopify shop (`<shop>.myshopify.com`): webhooks find their store by it.
    shop_domain = models.CharField(
        _("Shopify shop domain"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$",
                _("Use the shop's myshopify.com domain, e.g. example.myshopify.com."),
            )
        ],
    )
    # Set when Shopify said the app was uninstalled: its webhooks are refused, its data stays.
    shop_disconnected_at = models.DateTimeField(_("Shopify disconnected at"), null=True, blank=True)
    # The shopper's pages speak it when the shopper asked for no language we have (§10).
    default_language = models.CharField(
        _("default language"),
        max_length=8,
        choices=language_choices,
        default="en",
        help_text=_("For shoppers whose browser asks for none of the languages we offer."),
    )
    # The delivery rule: what the tracking page estimates when the carrier gives no date.
    # No transit days, no rule (docs/contract.md §10).
    delivery_processing_days = models.PositiveSmallIntegerField(
        _("processing days"),
        default=0,
        validators=[MaxValueValidator(delivery.MAX_DAYS)],
        help_text=_("Business days between an order and its shipping."),
    )
    delivery_transit_days = models.CharField(
        _("transit days"),
        max_length=7,
        blank=True,
        validators=[_validate_transit_days],
        help_text=_("Business days in transit, e.g. 3 or 2-4. Empty: no estimate."),
    )
    delivery_transit_by_carrier = models.JSONField(
        _("transit days per carrier"),
        default=dict,
        blank=True,
        help_text=_('Carrier code to transit days, e.g. {"dhl": "1-2"}.'),
    )
    delivery_business_days = models.CharField(
        _("business days"),
        max_length=7,
        default=delivery.DEFAULT_BUSINESS_DAYS,
        validators=[_validate_business_days],
        help_text=_("Weekdays that ship and deliver: 1 (Monday) to 7 (Sunday), e.g. 12345."),
    )
    delivery_cutoff = models.TimeField(
        _("cut-off time"),
        null=True,
        blank=True,
        help_text=_("In the store's time zone: shipped later, a parcel counts from the next day."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def brand_name(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        super().clean()
        overrides = self.delivery_transit_by_carrier
        if not isinstance(overrides, dict):
            raise ValidationError({"delivery_transit_by_carrier": _("Use an object.")})
        for code, value in overrides.items():
            if code not in Carrier.values:
                raise ValidationError(
                    {
                        "delivery_transit_by_carrier": _("%(code)s is not a carrier code.")
                        % {"code": code}
                    }
                )
            try:
                delivery.parse_span(value if isinstance(value, str) else "")
            except delivery.BadRule:
                raise ValidationError(
                    {
                        "delivery_transit_by_carrier": _(
                            "Use a number of days (e.g. 3) or a range (e.g. 2-4) for %(code)s."
                        )
                        % {"code": code}
                    }
                ) from None

    @property
    def delivery_rule(self) -> delivery.DeliveryRule | None:
        """The store's delivery rule, or None when it has set none (or an unusable one)."""
        return delivery.rule_from_fields(
            transit_days=self.delivery_transit_days,
            transit_by_carrier=self.delivery_transit_by_carrier,
            processing_days=self.delivery_processing_days,
            business_days=self.delivery_business_days,
            cutoff=self.delivery_cutoff,
            time_zone=self.time_zone,
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="membership_unique_user_store")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store} ({self.role})"


class StoreCarrierMapping(models.Model):
    """The store's own name for a carrier (what its shop system calls it) → our carrier code.

    Read after the catalogue's names and before auto-detection; `name_key` is the name as names
    are compared (case-folded, single spaces), unique per store.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="carrier_mappings")
    name = models.CharField(_("name in the shop"), max_length=100)
    name_key = models.CharField(max_length=100, editable=False)
    carrier = models.CharField(_("carrier"), max_length=16, choices=Carrier.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "name_key"], name="carrier_mapping_unique_name_per_store"
            ),
            models.CheckConstraint(
                condition=~Q(name_key=""), name="carrier_mapping_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.carrier}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = catalogue.name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The rules of a name, for the service and for forms (admin): `name_key` is not a form
        field, so the database's one-name-per-store rule would otherwise end in an error page."""
        self.name_key = catalogue.name_key(self.name)
        if not self.name_key:
            raise ValidationError({"name": _("Enter the name your shop uses for the carrier.")})
        if known := catalogue.BY_NAME.get(self.name_key):
            # It would never be read: the catalogue's names come first.
            raise ValidationError(
                {
                    "name": _("%(name)s is already known as %(carrier)s.")
                    % {"name": self.name.strip(), "carrier": catalogue.BY_CODE[known].name}
                }
            )
        same = StoreCarrierMapping.objects.filter(store_id=self.store_id, name_key=self.name_key)
        if self.store_id is not None and same.exclude(pk=self.pk).exists():
            raise ValidationError({"name": _("The store already has this name.")})
