"""Shopify's side of the webhooks: the signature and the payloads' shapes (no ORM here)."""
