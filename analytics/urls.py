from django.urls import path

from analytics.apis import alerts

urlpatterns: list = [
    path("alerts/rules", alerts.AlertRuleListCreateApi.as_view(), name="alert-rules"),
    path("alerts/firings", alerts.AlertFiringListApi.as_view(), name="alert-firings"),
]
