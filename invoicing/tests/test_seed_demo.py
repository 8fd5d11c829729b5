from io import StringIO

import pytest
from django.core.management import call_command

from invoicing.models import Invoice
from subscriptions.models import Subscription, Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_puts_the_demo_tenant_on_team_and_bills_it_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    demo = Tenant.objects.get(name="Demo Tenant Inc.")
    assert Subscription.objects.get(tenant=demo).plan.slug == "team"
    invoice = Invoice.objects.get(tenant=demo)
    assert (invoice.status, invoice.total, invoice.number.startswith("INV-")) == (
        "open",
        20000,
        True,
    )
