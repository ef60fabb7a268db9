from django.urls import path

from resync_site import converters  # noqa: F401  (registers the <id:…> path converter)

from . import correction_views, export_views, settings_views, views

app_name = "shipments"

urlpatterns = [
    path("shipments/", views.shipment_list, name="list"),
    path("shipments/resync/", views.shipment_bulk_resync, name="bulk_resync"),
    path("shipments/<id:shipment_id>/", views.shipment_detail, name="detail"),
    path("shipments/<id:shipment_id>/resync/", views.shipment_resync, name="resync"),
    path("shipments/<id:shipment_id>/carrier/", correction_views.shipment_carrier, name="carrier"),
    path("shipments/carrier/", correction_views.shipments_carrier, name="bulk_carrier"),
    path(
        "shipments/<id:shipment_id>/resync/<uuid:job_id>/",
        views.resync_job_status,
        name="resync_job",
    ),
    path("sync-runs/<id:run_id>/", views.sync_run_detail, name="sync_run"),
    path("stores/switch/", views.store_switch, name="switch_store"),
    path("settings/carriers/", settings_views.carrier_names, name="carrier_names"),
    path(
        "settings/carriers/<id:mapping_id>/delete/",
        settings_views.carrier_name_delete,
        name="carrier_name_delete",
    ),
    path("settings/delivery/", settings_views.delivery_rule, name="delivery_rule"),
    path("shipments/export.csv", export_views.shipment_export, name="export"),
]
