"""Services of the ways in: each writes through `shipments.services` (ingest, corrections)."""
