from django.urls import path

from usage import apis

urlpatterns = [
    path("usage", apis.UsageRecordApi.as_view(), name="usage-record"),
    path("usage/batch", apis.UsageBatchApi.as_view(), name="usage-batch"),
    path("usage/current", apis.UsageCurrentApi.as_view(), name="usage-current"),
    path("usage/events", apis.UsageEventListApi.as_view(), name="usage-events"),
]
