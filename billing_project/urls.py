"""Composes every app's urls under /api/v1/billing/."""

from pathlib import Path

import drf_spectacular_sidecar
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analytics.apis.metrics import MetricsApi
from billing_project.shared.api.health import health, ready

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("dunning.urls")),
    path("", include("subscriptions.urls")),
    path("", include("invoicing.urls")),
    path("", include("payments.urls")),
    path("", include("usage.urls")),
    path("", include("ledger.urls")),
    path("", include("analytics.urls")),
]

# The docs' Swagger UI files (drf-spectacular-sidecar), served by the app itself so /docs/ works
# offline and under gunicorn without collectstatic or a web server in front (read-only files of
# an installed package; `serve` refuses paths outside the folder).
SIDECAR_STATIC = Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar"

urlpatterns = [
    re_path(
        rf"^{settings.STATIC_URL.lstrip('/')}drf_spectacular_sidecar/(?P<path>.+)$",
        serve,
        {"document_root": SIDECAR_STATIC},
    ),
    # 2FA code and enrolment pages (console/safety.py), before the admin's catch-all.
    path("admin/otp/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("metrics", MetricsApi.as_view(), name="metrics"),
    path("ready", ready, name="ready"),
    path("api/v1/billing/", include(api_patterns)),
]
