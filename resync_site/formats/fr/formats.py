"""French dates on the shopper's pages: "20 nov. 2026 14:30" (other formats: Django's own)."""

DATETIME_FORMAT = "j N Y H:i"
DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d/m/Y"
