"""The webhooks settings pages, under /app/settings/webhooks/ (resync_site/urls.py)."""

from django.urls import path

from resync_site import converters  # noqa: F401  (registers the <id:…> path converter)

from . import views

app_name = "hooks"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("<id:endpoint_id>/", views.endpoint, name="endpoint"),
    path("<id:endpoint_id>/rotate/", views.rotate, name="rotate"),
    path("<id:endpoint_id>/delete/", views.delete, name="delete"),
    path(
        "<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver/",
        views.redeliver,
        name="redeliver",
    ),
]
