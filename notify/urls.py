"""Shopper e-mails: the unsubscribe link (public) and the merchant's settings page."""

from django.urls import path

from . import settings_views, views

app_name = "notify"

urlpatterns = [
    path("notify/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("app/settings/notifications/", settings_views.notifications, name="settings"),
    path("app/settings/notifications/test/", settings_views.test_email, name="test_email"),
]
