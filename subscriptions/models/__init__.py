from subscriptions.models.catalog import Metric, Plan, PlanMetric
from subscriptions.models.payment_methods import PaymentMethod
from subscriptions.models.tenants import Tenant
from subscriptions.models.tokens import ApiToken

__all__ = ["ApiToken", "Metric", "PaymentMethod", "Plan", "PlanMetric", "Tenant"]
