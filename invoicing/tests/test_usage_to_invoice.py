"""End to end with real usage: events through the API, rollups, the cycle, the invoice."""

from io import StringIO

import pytest
from django.core.management import call_command

from invoicing.models import Invoice
from invoicing.serializers import invoice_data
from invoicing.services.previews import invoice_upcoming
from invoicing.tests.conftest import at, start
from subscriptions.services.contracts import contract_create

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


def test_contract_upcoming_preview_equals_the_issued_invoice_with_real_usage(
    tenant, tenant_member_client
):
    sub, _ = start(tenant, "enterprise")
    contract_create(
        tenant=tenant,
        contract_terms={
            "annual_minimum": 0,
            "custom_pricing": {
                "base_price": 500000, "user_price": 1500, "overage_rates": {"api_calls": 0.5}
            },
            "payment_terms": "Net 60",
            "auto_renewal": True,
            "volume_discounts": [
                {"threshold": 100000, "discount": 5}, {"threshold": 1000000, "discount": 10}
            ],
        },
        now=at("2026-01-10T00:00:00Z"),
    )  # fmt: skip
    for event in (
        {"metric_type": "active_users", "quantity": 120, "timestamp": "2026-01-12T10:00:00Z"},
        {"metric_type": "api_calls", "quantity": 2_000_000, "timestamp": "2026-01-13T00:00:00Z"},
    ):
        assert tenant_member_client.post("usage", event).status_code == 201
    early = invoice_upcoming(tenant_id=tenant.pk, now=at("2026-01-20T00:00:00Z"))["invoice"]
    assert early["total"] == 1_062_000  # (500000 + 180000 + 1,000,000 x 0.5) less 10 %
    # the preview closed nothing: a later event of January still counts
    late = {"metric_type": "api_calls", "quantity": 1_000_000, "timestamp": "2026-01-25T00:00:00Z"}
    assert tenant_member_client.post("usage", late).status_code == 201
    upcoming = invoice_upcoming(tenant_id=tenant.pk, now=at("2026-01-31T00:00:00Z"))["invoice"]
    assert (upcoming["subtotal"], upcoming["total"]) == (1_680_000, 1_512_000)
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=StringIO())
    issued = invoice_data(
        Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    )
    for key in ("id", "number"):
        issued.pop(key)
        upcoming.pop(key)
    upcoming.pop("contract_version")
    for line in (*issued["lines"], *upcoming["lines"]):
        line.pop("id")
    assert issued == upcoming
