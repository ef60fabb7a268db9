"""English formats of our own: every page reads a date-time as "20 Nov 2026, 14:30" (the merchant
pages and the shopper's tracking page alike), a date as "20 Nov 2026" and a time as "14:30"."""

DATETIME_FORMAT = "j M Y, H:i"
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
