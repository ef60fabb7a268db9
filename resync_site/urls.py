from django.contrib import admin
from django.urls import include, path

from connect.carrier_push_views import aftership_push, seventeentrack_push
from connect.webhook_views import shopify_webhook

from . import health, sign_in

urlpatterns = [
    path("", sign_in.home),
    path("accounts/login/", sign_in.SignInView.as_view(), name="login"),
    path("accounts/logout/", sign_in.SignOutView.as_view(), name="logout"),
    path("accounts/no-store/", sign_in.no_store, name="no_store"),
    path("admin/", admin.site.urls),
    path("app/", include("shipments.urls")),
    path("app/", include("connect.urls")),
    path("", include("notify.urls")),  # /app/settings/notifications/, /notify/unsubscribe/…
    path("app/settings/webhooks/", include("hooks.urls")),
    path("webhooks/shopify/", shopify_webhook, name="shopify_webhook"),
    path("webhooks/carriers/17track/", seventeentrack_push, name="carrier_push_17track"),
    path("webhooks/carriers/aftership/", aftership_push, name="carrier_push_aftership"),
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
