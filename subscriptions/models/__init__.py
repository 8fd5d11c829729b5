from subscriptions.models.catalog import Metric, Plan, PlanMetric
from subscriptions.models.contracts import Contract, ContractVersion
from subscriptions.models.payment_methods import PaymentMethod
from subscriptions.models.subscriptions import (
    Coupon,
    CouponRedemption,
    Subscription,
    SubscriptionChange,
)
from subscriptions.models.tenants import Tenant
from subscriptions.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Contract",
    "ContractVersion",
    "Coupon",
    "CouponRedemption",
    "Metric",
    "PaymentMethod",
    "Plan",
    "PlanMetric",
    "Subscription",
    "SubscriptionChange",
    "Tenant",
]
