"""The merchant app's pages for the ways in (under /app/, beside the shipments app's)."""

from django.urls import path  # noqa: F401 - the ways in add their pages here

app_name = "connect"

urlpatterns: list = [
    # API keys (/app/settings/api-keys/) and CSV import (/app/shipments/import/) go here.
]
