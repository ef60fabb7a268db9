"""Spanish dates on the shopper's pages: "20 nov 2026, 14:30" (other formats: Django's own)."""

DATETIME_FORMAT = "j b Y, H:i"
DATE_FORMAT = "j b Y"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d/m/Y"
