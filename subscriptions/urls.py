from django.urls import path

from subscriptions import apis, payment_method_apis, subscription_apis

urlpatterns = [
    path("tenants", apis.TenantListCreateApi.as_view(), name="tenants"),
    path("tenants/<str:tenant_id>", apis.TenantDetailApi.as_view(), name="tenant-detail"),
    path("plans", apis.PlanListCreateApi.as_view(), name="plans"),
    path("plans/<str:plan_id>", apis.PlanDetailApi.as_view(), name="plan-detail"),
    # `subscriptions` and `subscriptions/<id>` (create, change plan) are routed in invoicing.urls:
    # they bill as they act (a use case of invoicing).
    path(
        "subscriptions/<str:subscription_id>/reactivate",
        subscription_apis.SubscriptionReactivateApi.as_view(),
        name="subscription-reactivate",
    ),
    path("coupons", subscription_apis.CouponListCreateApi.as_view(), name="coupons"),
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
