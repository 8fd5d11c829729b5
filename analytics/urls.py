from django.urls import path

from analytics.apis import alerts, insights
from analytics.apis.mrr import ChurnApi, MrrApi, MrrMovementsApi

urlpatterns: list = [
    path("analytics/mrr", MrrApi.as_view(), name="analytics-mrr"),
    path("analytics/mrr/movements", MrrMovementsApi.as_view(), name="analytics-mrr-movements"),
    path("analytics/churn", ChurnApi.as_view(), name="analytics-churn"),
    path("analytics/usage", insights.UsageAnalyticsApi.as_view(), name="analytics-usage"),
    path(
        "analytics/usage/forecast",
        insights.UsageForecastApi.as_view(),
        name="analytics-usage-forecast",
    ),
    path(
        "analytics/payment-health",
        insights.PaymentHealthApi.as_view(),
        name="analytics-payment-health",
    ),
    path(
        "analytics/acquisition-spend",
        insights.AcquisitionSpendApi.as_view(),
        name="analytics-acquisition-spend",
    ),
    path("analytics/cac", insights.CacApi.as_view(), name="analytics-cac"),
    path("analytics/plan-costs", insights.PlanCostApi.as_view(), name="analytics-plan-costs"),
    path(
        "executive-dashboard",
        insights.ExecutiveDashboardApi.as_view(),
        name="executive-dashboard",
    ),
    path("alerts/rules", alerts.AlertRuleListCreateApi.as_view(), name="alert-rules"),
    path("alerts/firings", alerts.AlertFiringListApi.as_view(), name="alert-firings"),
]
