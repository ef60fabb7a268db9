"""The merchant app's pages for the ways in (under /app/, beside the shipments app's)."""

from django.urls import path

from . import views_import

app_name = "connect"

urlpatterns: list = [
    # API keys (/app/settings/api-keys/) and CSV import (/app/shipments/import/) go here.
    path("shipments/import/", views_import.shipment_import, name="import"),
    path(
        "shipments/import/template.csv",
        views_import.shipment_import_template,
        name="import_template",
    ),
]
