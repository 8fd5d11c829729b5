from django.urls import path

from subscriptions import apis, payment_method_apis

urlpatterns = [
    path("tenants", apis.TenantListCreateApi.as_view(), name="tenants"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("plans", apis.PlanListCreateApi.as_view(), name="plans"),
    path("plans/<str:plan_id>", apis.PlanDetailApi.as_view(), name="plan-detail"),
    path(
        "payment-methods",
        payment_method_apis.PaymentMethodListCreateApi.as_view(),
        name="payment-methods",
    ),
    path(
        "payment-methods/<str:payment_method_id>",
        payment_method_apis.PaymentMethodDetailApi.as_view(),
        name="payment-method-detail",
    ),
    path(
        "payment-methods/<str:payment_method_id>/default",
        payment_method_apis.PaymentMethodDefaultApi.as_view(),
        name="payment-method-default",
    ),
]
