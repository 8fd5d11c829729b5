from io import StringIO

import pytest
from django.core.management import call_command

from dunning.models import DunningCase
from invoicing.models import Invoice
from payments.tests.conftest import DECLINING_CARD, draft_invoice, finalized, with_card  # noqa: F401


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def cycle(django_capture_on_commit_callbacks):
    """`run_billing_cycle --now` with its after-commit work run (emails, tasks)."""

    def run(at):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("run_billing_cycle", "--now", at.isoformat(), stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def declined(tenant, with_card, staff_client, django_capture_on_commit_callbacks):  # noqa: F811
    """A tenant on the Developer plan whose first invoice (day 0) was declined."""
    with_card(tenant, DECLINING_CARD)
    client = staff_client
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
        )
    assert response.status_code == 201, response.content
    invoice = Invoice.objects.get(subscription_id=response.json()["id"])
    case = DunningCase.objects.get(invoice=invoice)
    return tenant, invoice, case
