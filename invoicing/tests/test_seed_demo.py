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
    # The demo tenant is in California, a nexus state: 8.25 % sales tax on the $200 fee.
    assert (invoice.status, invoice.tax, invoice.total, invoice.number.startswith("INV-")) == (
        "open",
        1650,
        21650,
        True,
    )
    assert invoice.tax_decision["jurisdiction"] == "US-CA"
