"""Connecting a store: shipments coming in from Shopify webhooks, the merchant API and CSV import.

Every way in ends in `shipments.services.ingest`, which creates or updates the shipments, maps
their carrier and pulls them once at once; this app holds what is particular to each way in.
"""
