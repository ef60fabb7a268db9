"""The merchant app's pages for the ways in (under /app/, beside the shipments app's)."""

from django.urls import path

from . import views_api_keys

app_name = "connect"

urlpatterns: list = [
    # API keys (/app/settings/api-keys/) and CSV import (/app/shipments/import/) go here.
    path("settings/api-keys/", views_api_keys.api_keys, name="api_keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        views_api_keys.api_key_revoke,
        name="api_key_revoke",
    ),
]
