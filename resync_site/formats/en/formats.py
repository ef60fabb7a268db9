"""English formats of our own: the merchant pages' date-times read "20 Nov 2026, 14:30"."""

DATETIME_FORMAT = "j M Y, H:i"
