"""UPS's status code tables (the exact codes of its Tracking API appendix) → normalised status."""

from __future__ import annotations

from .statuses import Status

S = Status

# Every code of the UPS "Status/Description Codes" appendix, zero-padded as the API sends them.
STATUS_CODES: dict[str, Status] = {
    "000": S.PENDING,  # Status Not Available
    "003": S.INFO_RECEIVED,  # Shipment Ready for UPS
    "005": S.IN_TRANSIT,  # On the Way
    "006": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "007": S.EXCEPTION,  # Shipment Information Voided
    "010": S.IN_TRANSIT,  # On the Way
    "011": S.DELIVERED,  # Delivered
    "012": S.IN_TRANSIT,  # Clearance in Progress
    "013": S.EXCEPTION,  # Exception
    "014": S.IN_TRANSIT,  # Clearance Completed
    "016": S.IN_TRANSIT,  # In Warehouse
    "017": S.AVAILABLE_FOR_PICKUP,  # Held for Customer Pickup
    "018": S.IN_TRANSIT,  # Delivery Change Requested: Hold for Pickup
    "019": S.IN_TRANSIT,  # Held for Future Delivery
    "020": S.IN_TRANSIT,  # Held for Future Delivery Requested
    "021": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "022": S.FAILED_ATTEMPT,  # First Attempt Made
    "023": S.FAILED_ATTEMPT,  # Second Delivery Attempted
    "024": S.FAILED_ATTEMPT,  # Final Attempt Made
    "025": S.IN_TRANSIT,  # On the Way
    "026": S.DELIVERED,  # Delivered by Local Post Office
    "027": S.IN_TRANSIT,  # Delivery Address Change Requested
    "028": S.IN_TRANSIT,  # Delivery Address Changed
    "029": S.EXCEPTION,  # Exception: Action Required
    "030": S.EXCEPTION,  # Local Post Office Exception
    "032": S.IN_TRANSIT,  # Adverse Weather May Cause Delay
    "033": S.EXCEPTION,  # Return to Sender Requested
    "034": S.EXCEPTION,  # Returned to Sender
    "035": S.EXCEPTION,  # Returning to Sender
    "036": S.EXCEPTION,  # Returning to Sender: In Transit
    "037": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "038": S.IN_TRANSIT,  # Picked Up by UPS
    "039": S.IN_TRANSIT,  # On the Way
    "040": S.AVAILABLE_FOR_PICKUP,  # Ready for Customer Pickup
    "041": S.IN_TRANSIT,  # Service Upgrade Requested
    "042": S.IN_TRANSIT,  # Service Upgraded
    "043": S.EXCEPTION,  # Voided Pickup
    "044": S.IN_TRANSIT,  # On the Way to UPS
    "045": S.IN_TRANSIT,  # On the Way to UPS
    "046": S.EXCEPTION,  # Delay
    "047": S.IN_TRANSIT,  # On the Way
    "048": S.EXCEPTION,  # Delay
    "049": S.EXCEPTION,  # Delay: Action Required
    "050": S.EXCEPTION,  # Address Information Required
    "051": S.EXCEPTION,  # Delay: Emergency Situation or Severe Weather
    "052": S.EXCEPTION,  # Delay: Severe Weather
    "053": S.EXCEPTION,  # Delay: Severe Weather
    "054": S.IN_TRANSIT,  # Delivery Change Requested
    "055": S.IN_TRANSIT,  # Rescheduled Delivery
    "056": S.IN_TRANSIT,  # Service Upgrade Requested
    "057": S.IN_TRANSIT,  # On the Way to a Local UPS Access Point
    "058": S.EXCEPTION,  # Clearance Information Required
    "059": S.EXCEPTION,  # Damage Reported
    "060": S.FAILED_ATTEMPT,  # Delivery Attempted
    "061": S.FAILED_ATTEMPT,  # Delivery Attempted: Adult Signature Required
    "062": S.FAILED_ATTEMPT,  # Delivery Attempted: Funds Required
    "063": S.IN_TRANSIT,  # Delivery Change Completed
    "064": S.EXCEPTION,  # Delivery Refused
    "065": S.INFO_RECEIVED,  # Pickup Attempted
    "066": S.FAILED_ATTEMPT,  # Post Office Delivery Attempted
    "067": S.EXCEPTION,  # Returned to Sender by Post Office
    "068": S.EXCEPTION,  # Sent to Lost and Found
    "069": S.EXCEPTION,  # Unable to Deliver
    "070": S.IN_TRANSIT,  # Package not at UPS Access Point yet
    "071": S.IN_TRANSIT,  # Preparing for Delivery
    "072": S.OUT_FOR_DELIVERY,  # Loaded on Delivery Vehicle
    "073": S.IN_TRANSIT,  # In Transit to UPS Delivery Partner
    "074": S.IN_TRANSIT,  # UPS Delivery Partner has Shipment
    "075": S.IN_TRANSIT,  # Scheduled for Delivery
    "076": S.EXCEPTION,  # UPS Delivery Partner Exception
    "077": S.INFO_RECEIVED,  # Scheduled for Pickup Today
    "078": S.OUT_FOR_DELIVERY,  # Your Driver is Arriving Soon!
    "079": S.INFO_RECEIVED,  # Order Processed: In Transit to UPS
    "080": S.INFO_RECEIVED,  # Order Processed: Ready for UPS
    "081": S.EXCEPTION,  # Returned - Damage Reported
    "082": S.IN_TRANSIT,  # Delivery Instructions Received
    "083": S.EXCEPTION,  # Held
    "084": S.IN_TRANSIT,  # Cleared
    "085": S.EXCEPTION,  # Held for COD Payment
    "086": S.EXCEPTION,  # Delay
    "087": S.IN_TRANSIT,  # On the Way
    "088": S.PENDING,  # Test
    "089": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "090": S.EXCEPTION,  # Delay
    "091": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "092": S.IN_TRANSIT,  # Customs Clearance in Progress
    "093": S.EXCEPTION,  # Premier Recovery In Progress
    "094": S.IN_TRANSIT,  # Premier Recovery Completed
    "095": S.IN_TRANSIT,  # Additional Attempt Requested
    "096": S.IN_TRANSIT,  # Address Change Confirmed
    "097": S.IN_TRANSIT,  # Address Change Requested
    "098": S.IN_TRANSIT,  # Deliver to Original Address Requested
    "099": S.IN_TRANSIT,  # Deliver to Original Address Confirmed
    "100": S.IN_TRANSIT,  # Hold at UPS Access Point Confirmed
    "101": S.IN_TRANSIT,  # Hold at UPS Access Point Requested
    "102": S.IN_TRANSIT,  # Hold for Courier Requested
    "103": S.IN_TRANSIT,  # Hold for Courier Confirmed
    "104": S.EXCEPTION,  # Hold for Instructions Confirmed
    "105": S.EXCEPTION,  # Hold for Instructions Requested
    "106": S.AVAILABLE_FOR_PICKUP,  # Hold for Pickup Confirmed
    "107": S.IN_TRANSIT,  # Hold for Pickup Requested
    "108": S.AVAILABLE_FOR_PICKUP,  # Hold for Pickup Today Confirmed
    "109": S.IN_TRANSIT,  # Hold for Pickup Today Requested
    "110": S.IN_TRANSIT,  # Refrigeration Confirmed
    "111": S.IN_TRANSIT,  # Refrigeration Requested
    "112": S.IN_TRANSIT,  # Re-Ice Confirmed
    "113": S.IN_TRANSIT,  # Re-Ice Requested
    "114": S.IN_TRANSIT,  # Request Canceled
    "115": S.IN_TRANSIT,  # Reschedule Delivery Confirmed
    "116": S.IN_TRANSIT,  # Reschedule Delivery Requested
    "117": S.EXCEPTION,  # Return by Saturday Confirmed
    "118": S.EXCEPTION,  # Return to Sender Confirmed
    "119": S.EXCEPTION,  # Return to Sender Requested
    "120": S.IN_TRANSIT,  # Saturday Delivery Confirmed
    "121": S.IN_TRANSIT,  # Saturday Delivery Requested
    "122": S.IN_TRANSIT,  # Upgrade Confirmed
    "123": S.IN_TRANSIT,  # Pending Release From Non-UPS Broker
    "124": S.EXCEPTION,  # Clearance Information Needed
    "125": S.EXCEPTION,  # Clearance Information Needed
    "126": S.IN_TRANSIT,  # Pending Government Agency Release
    "127": S.EXCEPTION,  # Investigation Closed
    "128": S.EXCEPTION,  # Investigation Canceled
    "129": S.EXCEPTION,  # Investigation Opened
    "130": S.EXCEPTION,  # Claim in Progress
    "131": S.INFO_RECEIVED,  # Final Pickup Attempted
    "132": S.EXCEPTION,  # Airport Security Delay
    "133": S.IN_TRANSIT,  # Return Label Left With Customer
    "134": S.IN_TRANSIT,  # Cleared Import Customs
    "135": S.INFO_RECEIVED,  # Second Pickup Attempted
    "136": S.IN_TRANSIT,  # Delivery Rescheduled for Saturday
    "137": S.IN_TRANSIT,  # Transferred to UPS Delivery Partner
    "138": S.IN_TRANSIT,  # Awaiting Scheduled Departure
    "139": S.EXCEPTION,  # Security Access Required
    "140": S.EXCEPTION,  # Claim Paid
    "141": S.EXCEPTION,  # Incomplete Documentation Received
    "142": S.EXCEPTION,  # Claim Voided
    "143": S.DELIVERED,  # Delivered to Agent
    "144": S.AVAILABLE_FOR_PICKUP,  # Delivered to Post Office for Pickup
    "145": S.FAILED_ATTEMPT,  # Delivery Attempted
    "146": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "147": S.EXCEPTION,  # Seized by Law Enforcement
    "148": S.PENDING,  # Package Information Unavailable
    "149": S.EXCEPTION,  # Prohibited Contents, Package Destroyed
    "153": S.IN_TRANSIT,  # Updated Delivery Time
    "154": S.IN_TRANSIT,  # Updated Delivery Date
    "155": S.DELIVERED,  # Delivery Photo
    "156": S.DELIVERED,  # Commercial Inside Release
    "157": S.INFO_RECEIVED,  # Shipment Ready for UPS
    "158": S.IN_TRANSIT,  # On the Way
    "159": S.IN_TRANSIT,  # On the Way
    "160": S.IN_TRANSIT,  # We Have Your Package
    "161": S.AVAILABLE_FOR_PICKUP,  # Delivered to UPS Access Point
    "162": S.OUT_FOR_DELIVERY,  # Out for Delivery
    "163": S.PENDING,  # Package Information Unavailable
    "164": S.IN_TRANSIT,  # On the Way
    "165": S.IN_TRANSIT,  # On the Way
    "166": S.INFO_RECEIVED,  # Shipment Ready for Roadie
    "167": S.IN_TRANSIT,  # Dropped off at UPS Store by Customer
    "168": S.IN_TRANSIT,  # Dropped off at Retail Location by Customer
    "169": S.IN_TRANSIT,  # Dropped off at a UPS Access Point by Customer
}

# Package activity types: the fallback when the 3-digit code is missing or unknown.
ACTIVITY_TYPES: dict[str, Status] = {
    "M": S.INFO_RECEIVED,  # Billing Information Received
    "MV": S.EXCEPTION,  # Billing Information Voided
    "P": S.IN_TRANSIT,  # Pickup (not in the appendix, sent nonetheless)
    "I": S.IN_TRANSIT,  # In Transit, Out for Delivery
    "DO": S.IN_TRANSIT,  # Delivered Origin CFS (freight)
    "DD": S.IN_TRANSIT,  # Delivered Destination CFS (freight)
    "W": S.IN_TRANSIT,  # Warehousing (freight)
    "U": S.IN_TRANSIT,  # Updates
    "X": S.EXCEPTION,  # Exception
    "D": S.DELIVERED,  # Delivered
    "NA": S.PENDING,  # Not Available
}
