from django.urls import path

from subscriptions import apis, subscription_apis

urlpatterns = [
    path("tenants", apis.TenantListCreateApi.as_view(), name="tenants"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("plans", apis.PlanListCreateApi.as_view(), name="plans"),
    path("plans/<str:plan_id>", apis.PlanDetailApi.as_view(), name="plan-detail"),
    path(
        "subscriptions", subscription_apis.SubscriptionListCreateApi.as_view(), name="subscriptions"
    ),
    path(
        "subscriptions/<str:subscription_id>",
        subscription_apis.SubscriptionDetailApi.as_view(),
        name="subscription-detail",
    ),
    path(
        "subscriptions/<str:subscription_id>/reactivate",
        subscription_apis.SubscriptionReactivateApi.as_view(),
        name="subscription-reactivate",
    ),
    path("coupons", subscription_apis.CouponListCreateApi.as_view(), name="coupons"),
]
