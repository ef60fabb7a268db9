"""The merchant API's typed shapes: what it accepts (validated here, before any endpoint runs)
and what it answers (the merchant app's JSON, `shipments.presenters`, documented for OpenAPI)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, field_validator

from shipments.carriers import catalogue
from shipments.models import BULK_WINDOWS, NEEDS_CARRIER_FILTER, ShipmentStatus
from shipments.services.ingest import clean_tracking_number

# Control characters (NUL among them) never make a valid order or tracking number.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

StatusName = Literal[tuple(ShipmentStatus.values)]  # type: ignore[valid-type]
CarrierFilter = Literal[(*(c.code for c in catalogue.CARRIERS), NEEDS_CARRIER_FILTER)]  # type: ignore[valid-type]
WindowName = Literal[tuple(w.value for w in BULK_WINDOWS)]  # type: ignore[valid-type]


def _blank_is_none(value: Any) -> Any:
    """`?status=` means no filter (a client that fills in every parameter)."""
    return None if value == "" else value


def _offset_plus(value: Any) -> Any:
    """An unencoded `+` of an offset arrives as a space (`…T10:00:00 02:00`): put it back."""
    if isinstance(value, str):
        return re.sub(r"(T[\d:.]+) (\d\d:?\d\d)$", r"\1+\2", value.strip())
    return value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("Must not contain control characters.")
    return value


# Dates are the presenters' ISO 8601 strings (always with an offset), documented as date-times.
IsoDateTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


# --- Input ------------------------------------------------------------------------------------


class ShipmentFilters(Schema):
    """`GET /shipments/` query parameters (all optional)."""

    status: Annotated[StatusName | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="One of the nine normalised statuses."
    )
    carrier: Annotated[CarrierFilter | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="A carrier code, or `none` for shipments without a carrier."
    )
    q: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        None, max_length=64, description="Part of an order number or tracking number."
    )
    updated_since: Annotated[
        dt.datetime | None, BeforeValidator(_blank_is_none), BeforeValidator(_offset_plus)
    ] = Field(
        None,
        description="ISO 8601; shipments changed or synced since (UTC when no offset).",
    )
    page: int = Field(1, ge=1, description="Page number, from 1.")
    page_size: int = Field(25, ge=1, le=100, description="Shipments per page (at most 100).")

    @field_validator("q")
    @classmethod
    def _clean_q(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _no_control(value).strip() or None


class ShipmentIn(Schema):
    """A shipment from the merchant's shop system (`POST /shipments/`)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    order_number: str = Field(..., min_length=1, max_length=64, examples=["#1001"])
    email: str = Field(..., max_length=254, examples=["shopper@example.com"])
    tracking_number: str = Field(..., min_length=1, max_length=64, examples=["1Z999AA10123456784"])
    carrier: str | None = Field(
        None,
        max_length=100,
        description="A carrier code (`ups`) or name (`UPS`, or one of the store's own names); "
        "omitted: found from the tracking number, else the shipment has no carrier.",
        examples=["ups"],
    )
    shipped_at: dt.datetime | None = Field(
        None, description="ISO 8601 (the store's time zone when no offset); omitted: now."
    )

    @field_validator("order_number", "carrier")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return _no_control(value) if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("Enter a valid e-mail address.") from None
        return value

    @field_validator("tracking_number")
    @classmethod
    def _tracking_number(cls, value: str) -> str:
        value = clean_tracking_number(_no_control(value))
        if not value:
            raise ValueError("Enter a tracking number.")
        return value


class CarrierChangeIn(Schema):
    carrier: str = Field(..., max_length=32, description="The right carrier's code, e.g. fedex.")
    tracking_number: str = Field(
        "", max_length=80, description="The right tracking number, when that was wrong too."
    )


class BulkResyncIn(Schema):
    window: WindowName = Field(..., description="today, yesterday, 7d, 30d or 60d.")


# --- Output -----------------------------------------------------------------------------------


class ShipmentOut(Schema):
    id: int
    order_number: str
    carrier: str | None = Field(..., description="A carrier code; null when none fits.")
    tracking_number: str
    status: str
    shipped_at: IsoDateTime
    last_synced_at: IsoDateTime
    tracking_url: str = Field(..., description="The shopper's tracking page.")


class ShipmentPage(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[ShipmentOut]


class EventOut(Schema):
    occurred_at: IsoDateTime
    status: str
    description: str
    location: str


class ShipmentDetailOut(ShipmentOut):
    status_label: str
    customer_email: str
    estimated_delivery: IsoDateTime
    origin: str
    destination: str
    carrier_name: str | None = Field(
        ...,
        description=(
            "The carrier that carries the parcel: through 17TRACK or AfterShip the carrier they "
            "report once known, else the carrier's name; null without a carrier."
        ),
    )
    tracked_via: str | None = Field(
        ..., description="The aggregator the shipment is tracked through (17TRACK, AfterShip)."
    )
    carrier_url: str
    last_sync_outcome: str
    last_sync_error: str
    last_success_at: IsoDateTime
    resync_url: str
    carrier_change_url: str
    carrier_suggestions: list[str] = Field(
        ..., description="Carrier codes whose number format fits the tracking number, best first."
    )
    events: list[EventOut] = Field(..., description="Newest first.")
    retry_after: int = Field(..., description="Seconds until a resync is possible (0: now).")


class JobAccepted(Schema):
    job: str
    state: Literal["queued"]
    status_url: str
    retry_after: int


class RunAccepted(Schema):
    run: int
    state: Literal["queued"]
    total: int
    status_url: str
    retry_after: int


class JobOut(Schema):
    state: str = Field(..., description="queued, running, succeeded or failed.")
    message: str
    changed: bool | None


class RunOut(Schema):
    id: int
    state: str
    state_label: str
    window: str
    window_label: str
    total: int
    done: int
    changed: int
    unchanged: int
    failed: int
    percent: int
    active: bool
    source: str
    requested_by: str | None
    created_at: IsoDateTime
    started_at: IsoDateTime
    finished_at: IsoDateTime
    status_url: str
    retry_after: int = Field(..., description="Seconds until another bulk resync is possible.")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None
    retry_after: int | None = None


class ErrorOut(Schema):
    error: ErrorDetail
