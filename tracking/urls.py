from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("<str:token>/", views.tracking_page, name="page"),
]
