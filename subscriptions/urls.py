from django.urls import path

from subscriptions import apis

urlpatterns = [
    path("tenants", apis.TenantListCreateApi.as_view(), name="tenants"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("plans", apis.PlanListCreateApi.as_view(), name="plans"),
    path("plans/<str:plan_id>", apis.PlanDetailApi.as_view(), name="plan-detail"),
]
