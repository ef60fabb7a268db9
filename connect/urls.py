"""The merchant app's pages for the ways in (under /app/, beside the shipments app's)."""

from django.urls import path

from resync_site import converters  # noqa: F401  (registers the <id:…> path converter)

from . import views_api_keys, views_import

app_name = "connect"

urlpatterns = [
    path("settings/api-keys/", views_api_keys.api_keys, name="api_keys"),
    path(
        "settings/api-keys/<id:key_id>/revoke/",
        views_api_keys.api_key_revoke,
        name="api_key_revoke",
    ),
    path("shipments/import/", views_import.shipment_import, name="import"),
    path(
        "shipments/import/template.csv",
        views_import.shipment_import_template,
        name="import_template",
    ),
]
