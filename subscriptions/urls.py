from django.urls import path

from subscriptions.apis import (
    contracts,
    coupons,
    hierarchies,
    payment_methods,
    plans,
    subscriptions,
    tenants,
)

urlpatterns = [
    path("tenants", tenants.TenantListCreateApi.as_view(), name="tenants"),
    # `tenants/<id>` is routed in dunning.urls: its answer carries the open-dunning summary.
    path(
        "tenants/<str:tenant_id>/hierarchy",
        hierarchies.TenantHierarchyApi.as_view(),
        name="tenant-hierarchy",
    ),
    path("hierarchies", hierarchies.HierarchyCreateApi.as_view(), name="hierarchies"),
    path("plans", plans.PlanListCreateApi.as_view(), name="plans"),
    path("plans/<str:plan_id>", plans.PlanDetailApi.as_view(), name="plan-detail"),
    # `subscriptions` and `subscriptions/<id>` (create, change plan) are routed in invoicing.urls:
    # they bill as they act (a use case of invoicing).
    path(
        "subscriptions/<str:subscription_id>/reactivate",
        subscriptions.SubscriptionReactivateApi.as_view(),
        name="subscription-reactivate",
    ),
    path("contracts", contracts.ContractListCreateApi.as_view(), name="contracts"),
    path(
        "contracts/<str:contract_id>",
        contracts.ContractDetailApi.as_view(),
        name="contract-detail",
    ),
    path("coupons", coupons.CouponListCreateApi.as_view(), name="coupons"),
    path(
        "payment-methods",
        payment_methods.PaymentMethodListCreateApi.as_view(),
        name="payment-methods",
    ),
    path(
        "payment-methods/<str:payment_method_id>",
        payment_methods.PaymentMethodDetailApi.as_view(),
        name="payment-method-detail",
    ),
    path(
        "payment-methods/<str:payment_method_id>/default",
        payment_methods.PaymentMethodDefaultApi.as_view(),
        name="payment-method-default",
    ),
]
