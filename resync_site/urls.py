from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from connect.webhook_views import shopify_webhook

from . import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="shipments:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("app/", include("shipments.urls")),
    path("app/", include("connect.urls")),
    path("webhooks/shopify/", shopify_webhook, name="shopify_webhook"),
    path("track/", include("tracking.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include("connect.api.urls")),
]
urlpatterns += [path("bench/", include("resync_site.bench_views"))]  # empty unless BENCH_VIEWS

# Styled error pages with a way back (the tracking pages and the API answer their own errors).
handler400 = "shipments.error_views.bad_request"
handler403 = "shipments.error_views.permission_denied"
handler404 = "shipments.error_views.page_not_found"
handler500 = "shipments.error_views.server_error"
