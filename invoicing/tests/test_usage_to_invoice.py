"""End to end with real usage: events through the API, rollups, the cycle, the invoice."""

from io import StringIO

import pytest
from django.core.management import call_command

from invoicing.models import Invoice
from invoicing.tests.conftest import start

pytestmark = pytest.mark.django_db


def test_usage_posted_through_the_api_is_invoiced_and_its_period_closed(
    tenant, tenant_member_client
):
    _, first = start(tenant, "developer")
    events = [
        {"metric_type": "storage_gb", "quantity": 7, "timestamp": "2026-01-03T10:00:00Z"},
        {"metric_type": "storage_gb", "quantity": 12, "timestamp": "2026-01-20T10:30:00Z"},
        {"metric_type": "api_calls", "quantity": 9000, "timestamp": "2026-01-05T00:00:00Z"},
        {"metric_type": "api_calls", "quantity": 6000, "timestamp": "2026-01-31T23:59:59Z"},
    ]
    for event in events:
        assert tenant_member_client.post("usage", event).status_code == 201
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=StringIO())
    invoice = Invoice.objects.exclude(pk=first.pk).get()
    assert invoice.total == 11000  # 5000 fee + 2 GB x 500 + 5,000 calls x 1
    late = tenant_member_client.post(
        "usage", {"metric_type": "api_calls", "quantity": 1, "timestamp": "2026-01-15T00:00:00Z"}
    )
    assert late.status_code == 400  # January is invoiced: closed to late events
