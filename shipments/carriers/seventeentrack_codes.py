"""17TRACK's status tables (main statuses, sub-statuses, milestone stages) → normalised status."""

from __future__ import annotations

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
