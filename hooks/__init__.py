"""Signed webhooks to the merchant's own systems (docs/contract.md §8)."""
