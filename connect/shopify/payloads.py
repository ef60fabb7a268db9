"""What Resync reads from Shopify's REST webhook payloads (orders and fulfillments), as plain
data. Everything a payload may lack or get wrong becomes `BadPayload`, never a crash.

Mapping (docs/contract.md §6): the order number is the order's `name` (`#1001`); the e-mail is
`email`, else `contact_email`, else `customer.email`; a fulfillment's tracking numbers are
`tracking_numbers`, else `tracking_number`; its shipments belong to the order, whose name is the
fulfillment's own name without its `.N` suffix (`#1001.1` → `#1001`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

MAX_ORDER_NUMBER = 64
MAX_TRACKING_NUMBER = 64
MAX_EMAIL = 254
# Fulfillment statuses that mean nothing ships under this fulfillment (any more).
NOT_SHIPPING = frozenset({"cancelled", "error", "failure"})


class BadPayload(ValueError):
    """The payload lacks what the topic needs, or has it in the wrong shape."""


@dataclass(frozen=True)
class FulfillmentData:
    external_id: str
    order_external_id: str
    order_number: str  # from the fulfillment's own name; "" when it has none
    email: str
    status: str
    tracking_company: str
    tracking_numbers: tuple[str, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @property
    def ships(self) -> bool:
        return self.status not in NOT_SHIPPING and bool(self.tracking_numbers)


@dataclass(frozen=True)
class OrderData:
    external_id: str
    order_number: str
    email: str
    customer_name: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    fulfillments: tuple[FulfillmentData, ...]


def timestamp(value: Any) -> dt.datetime | None:
    """An ISO 8601 time with its offset (Shopify always sends one); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _id(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise BadPayload(f"{key} is missing")
    text = str(value).strip()
    if len(text) > 64:
        raise BadPayload(f"{key} is too long")
    return text


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _email(*candidates: Any) -> str:
    for value in candidates:
        text = _text(value, MAX_EMAIL + 1)
        if text and len(text) <= MAX_EMAIL:
            return text
    return ""


def order_number_of_fulfillment(name: str) -> str:
    """`#1001.1` → `#1001` (a fulfillment is named after its order plus `.N`)."""
    return re.sub(r"\.\d+$", "", name.strip())


def _tracking_numbers(payload: dict[str, Any]) -> tuple[str, ...]:
    raw = payload.get("tracking_numbers")
    if not isinstance(raw, list) or not raw:
        single = payload.get("tracking_number")
        raw = [single] if single else []
    numbers: list[str] = []
    for value in raw:
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue
        number = "".join(str(value).split())
        if not number:
            continue
        if len(number) > MAX_TRACKING_NUMBER:
            raise BadPayload(f"tracking number longer than {MAX_TRACKING_NUMBER} characters")
        if number not in numbers:
            numbers.append(number)
    return tuple(numbers)


def parse_fulfillment(payload: Any, *, order_external_id: str = "") -> FulfillmentData:
    """A `fulfillments/*` payload, or one entry of an order's `fulfillments`."""
    if not isinstance(payload, dict):
        raise BadPayload("a fulfillment must be a JSON object")
    name = _text(payload.get("name"), 200)
    return FulfillmentData(
        external_id=_id(payload, "id"),
        order_external_id=order_external_id or _id(payload, "order_id"),
        order_number=order_number_of_fulfillment(name)[:MAX_ORDER_NUMBER],
        email=_email(payload.get("email")),
        status=_text(payload.get("status"), 32).lower(),
        tracking_company=_text(payload.get("tracking_company"), 100),
        tracking_numbers=_tracking_numbers(payload),
        created_at=timestamp(payload.get("created_at")),
        updated_at=timestamp(payload.get("updated_at")),
    )


def parse_order(payload: Any) -> OrderData:
    """An `orders/create` or `orders/updated` payload, with the fulfillments in it."""
    if not isinstance(payload, dict):
        raise BadPayload("an order must be a JSON object")
    external_id = _id(payload, "id")
    number = _text(payload.get("name"), 200)
    if not number:
        raise BadPayload("the order has no name (its number)")
    if len(number) > MAX_ORDER_NUMBER:
        raise BadPayload(f"order name longer than {MAX_ORDER_NUMBER} characters")
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    full_name = " ".join(
        part
        for part in (_text(customer.get("first_name"), 100), _text(customer.get("last_name"), 100))
        if part
    )
    raw_fulfillments = payload.get("fulfillments") or []
    if not isinstance(raw_fulfillments, list):
        raise BadPayload("fulfillments must be a list")
    return OrderData(
        external_id=external_id,
        order_number=number,
        email=_email(payload.get("email"), payload.get("contact_email"), customer.get("email")),
        customer_name=full_name[:200],
        created_at=timestamp(payload.get("created_at")),
        updated_at=timestamp(payload.get("updated_at")),
        fulfillments=tuple(
            parse_fulfillment(f, order_external_id=external_id) for f in raw_fulfillments
        ),
    )
