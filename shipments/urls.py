from django.urls import path

from . import views

app_name = "shipments"

urlpatterns = [
    path("shipments/", views.shipment_list, name="list"),
    path("shipments/<int:shipment_id>/", views.shipment_detail, name="detail"),
]
