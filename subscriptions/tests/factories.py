from datetime import UTC, datetime

import factory

from subscriptions.models import Tenant

FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    email = factory.Sequence(lambda n: f"billing{n}@tenant.example")
    country = "US"
    state = "CA"
    postal_code = "94105"
    timezone = "UTC"
    currency = "usd"
    created_at = FIXED_NOW
    updated_at = FIXED_NOW
