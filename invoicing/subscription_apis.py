"""`POST subscriptions` and `PATCH subscriptions/{id}` bill as they act (a use case of
invoicing): the first period's fee at once, an upgrade's proration at once. Parsing, scoping and
response shapes are the subscriptions app's views; only the use case differs."""

from invoicing.services.use_cases import (
    subscription_change_plan_and_invoice,
    subscription_start_and_invoice,
)
from subscriptions import subscription_apis as base


class SubscriptionListCreateApi(base.SubscriptionListCreateApi):
    def start_subscription(self, **kwargs):
        subscription, _invoice = subscription_start_and_invoice(**kwargs)
        return subscription


class SubscriptionDetailApi(base.SubscriptionDetailApi):
    def change_plan(self, **kwargs):
        subscription, change, _invoice = subscription_change_plan_and_invoice(**kwargs)
        return subscription, change
