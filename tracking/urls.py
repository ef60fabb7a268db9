from django.urls import path, re_path

from . import lookup_views, views

app_name = "tracking"

urlpatterns = [
    path("", lookup_views.lookup, name="lookup"),
    path("store/<slug:slug>/theme.css", lookup_views.store_theme, name="store_theme"),
    path("<str:token>/", views.tracking_page, name="page"),
    path("<str:token>/theme.css", views.theme, name="theme"),
    path("<str:token>/resync/", views.resync, name="resync"),
    path("<str:token>/resync/<uuid:job_id>/", views.resync_status, name="resync_status"),
    # Anything else under /track/ is the same "not found", with the same headers.
    re_path(r"^.+$", views.unknown, name="unknown"),
]
