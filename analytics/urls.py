from django.urls import path

from analytics.apis.mrr import ChurnApi, MrrApi, MrrMovementsApi

urlpatterns: list = [
    path("analytics/mrr", MrrApi.as_view(), name="analytics-mrr"),
    path("analytics/mrr/movements", MrrMovementsApi.as_view(), name="analytics-mrr-movements"),
    path("analytics/churn", ChurnApi.as_view(), name="analytics-churn"),
]
