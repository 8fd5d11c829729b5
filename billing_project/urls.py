"""Composes every app's urls under /api/v1/billing/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing_project.shared.api.health import health

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("subscriptions.urls")),
    path("", include("invoicing.urls")),
    path("", include("payments.urls")),
    path("", include("usage.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("api/v1/billing/", include(api_patterns)),
]
