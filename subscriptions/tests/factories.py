from datetime import UTC, datetime

import factory

from subscriptions.models import Tenant

FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    email = factory.Sequence(lambda n: f"billing{n}@tenant.example")
    # Oregon: no sales tax nexus by default, so invoices carry no tax unless a test says so.
    country = "US"
    state = "OR"
    postal_code = "97201"
    timezone = "UTC"
    currency = "usd"
    created_at = FIXED_NOW
    updated_at = FIXED_NOW
