"""17TRACK's tables: statuses (main, sub-status, milestone stage) → normalised status, and
error codes → the `CarrierError` they mean for us."""

from __future__ import annotations

import datetime as dt

from .base import (
    CarrierError,
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    TrackingNumberNotFound,
)
from .statuses import Status

S = Status

# latest_status.status (the nine main statuses) → normalised status.
MAIN_STATUSES: dict[str, Status] = {
    "NotFound": S.PENDING,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "Expired": S.EXPIRED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "DeliveryFailure": S.FAILED_ATTEMPT,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
}

# sub_status (30 documented values) → normalised status; each follows its main status.
SUB_STATUSES: dict[str, Status] = {
    "NotFound_Other": S.PENDING,
    "NotFound_InvalidCode": S.PENDING,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit_PickedUp": S.IN_TRANSIT,
    "InTransit_Other": S.IN_TRANSIT,
    "InTransit_Departure": S.IN_TRANSIT,
    "InTransit_Arrival": S.IN_TRANSIT,
    "InTransit_CustomsProcessing": S.IN_TRANSIT,
    "InTransit_CustomsReleased": S.IN_TRANSIT,
    "InTransit_CustomsRequiringInformation": S.IN_TRANSIT,
    "Expired_Other": S.EXPIRED,
    "AvailableForPickup_Other": S.AVAILABLE_FOR_PICKUP,
    "OutForDelivery_Other": S.OUT_FOR_DELIVERY,
    "DeliveryFailure_Other": S.FAILED_ATTEMPT,
    "DeliveryFailure_NoBody": S.FAILED_ATTEMPT,
    "DeliveryFailure_Security": S.FAILED_ATTEMPT,
    "DeliveryFailure_Rejected": S.FAILED_ATTEMPT,
    "DeliveryFailure_InvalidAddress": S.FAILED_ATTEMPT,
    "Delivered_Other": S.DELIVERED,
    "Exception_Other": S.EXCEPTION,
    "Exception_Returning": S.EXCEPTION,
    "Exception_Returned": S.EXCEPTION,
    "Exception_NoBody": S.EXCEPTION,
    "Exception_Security": S.EXCEPTION,
    "Exception_Damage": S.EXCEPTION,
    "Exception_Rejected": S.EXCEPTION,
    "Exception_Delayed": S.EXCEPTION,
    "Exception_Lost": S.EXCEPTION,
    "Exception_Destroyed": S.EXCEPTION,
    "Exception_Cancel": S.EXCEPTION,
}

# Event `stage` (milestone key stages), used only for an event that carries no sub_status.
STAGES: dict[str, Status] = {
    "InfoReceived": S.INFO_RECEIVED,
    "PickedUp": S.IN_TRANSIT,
    "Departure": S.IN_TRANSIT,
    "Arrival": S.IN_TRANSIT,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "Delivered": S.DELIVERED,
    "Returning": S.EXCEPTION,
    "Returned": S.EXCEPTION,
}


# Error codes (envelope `code` or `rejected[].error.code`) → what they mean for us.
NOT_REGISTERED = -18019902
ALREADY_REGISTERED = -18019901
ERROR_CODES: dict[int, type[CarrierError]] = {
    -18010001: InvalidCredentials,  # IP not whitelisted
    -18010002: InvalidCredentials,  # invalid key
    -18010003: CarrierUnavailable,  # 17TRACK internal error
    -18010004: InvalidCredentials,  # account disabled
    -18010005: InvalidCredentials,  # unauthorized
    -18010010: CarrierRejected,  # data / format errors …
    -18010011: CarrierRejected,
    -18010012: CarrierRejected,
    -18010013: CarrierRejected,
    -18010014: CarrierRejected,  # more than 40 numbers
    -18010015: CarrierRejected,
    -18010018: CarrierRejected,  # carrier needs an extra parameter (postal code, phone)
    -18010019: CarrierRejected,
    -18010020: CarrierRejected,
    NOT_REGISTERED: TrackingNumberNotFound,
    -18019903: TrackingNumberNotFound,  # no carrier can be detected for the number
    -18019904: CarrierRejected,  # only stopped numbers can be retracked
}

# Limits of our 17TRACK account, not of a number: `AccountLimitReached` (seventeentrack.py).
DAILY_LIMIT = -18019907  # "exceeded the daily limit"
QUOTA_USED_UP = -18019908  # "the quota has been used up"
ACCOUNT_LIMITS = frozenset({DAILY_LIMIT, QUOTA_USED_UP})
# A used-up quota lifts when someone buys more (or the monthly free quota comes back): look
# again every so often rather than wait for the month's end.
QUOTA_RETRY_SECONDS = 3600.0
# 17TRACK does not say when its day ends; we wait for the next 00:00 UTC, plus a margin.
DAY_END_MARGIN_SECONDS = 60.0


def account_pause(code: int, now: dt.datetime) -> float:
    """Seconds to hold 17TRACK back after an account limit (`now` aware)."""
    if code == DAILY_LIMIT:
        tomorrow = (now.astimezone(dt.UTC) + dt.timedelta(days=1)).date()
        midnight = dt.datetime.combine(tomorrow, dt.time(), tzinfo=dt.UTC)
        return (midnight - now).total_seconds() + DAY_END_MARGIN_SECONDS
    return QUOTA_RETRY_SECONDS
