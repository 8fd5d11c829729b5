"""A dunning pass costs a constant number of queries per chunk, whatever the chunk holds."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunning.models import DunningCase, DunningEvent, EventKind
from dunning.selectors import policy_default
from dunning.services.runner import dunning_run
from invoicing.models import Invoice
from payments.models import PaymentAttempt

pytestmark = pytest.mark.django_db

DAY0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 11, tzinfo=UTC)  # day 1: retry + reminder due


def open_cases(make_tenant, count: int, *, decline: str, prefix: str) -> list[DunningCase]:
    policy = policy_default()
    cases = []
    for i in range(count):
        tenant = make_tenant()
        invoice = Invoice.objects.create(
            tenant=tenant, kind="custom", status="open", number=f"{prefix}-{i:04d}",
            currency="usd", subtotal=5000, total=5000, amount_due=5000, issued_at=DAY0,
            due_at=DAY0, created_at=DAY0, updated_at=DAY0,
        )  # fmt: skip
        attempt = PaymentAttempt.objects.create(
            invoice=invoice, tenant=tenant, number=1, amount=5000, currency="usd",
            status="failed", trigger="auto", stripe_customer_id="cus_x",
            stripe_payment_method_id="pm_x", failure_code="card_declined", decline_code=decline,
            created_at=DAY0, updated_at=DAY0,
        )  # fmt: skip
        case = DunningCase.objects.create(
            tenant=tenant, invoice=invoice, policy=policy, first_attempt=attempt,
            opened_at=DAY0, next_action_at=datetime(2026, 3, 2, tzinfo=UTC),
            last_decline_code=decline, created_at=DAY0, updated_at=DAY0,
        )  # fmt: skip
        DunningEvent.objects.create(
            case=case, key="opened", kind=EventKind.OPENED, day=0, attempt=attempt, done=True,
            at=DAY0,
        )  # fmt: skip
        cases.append(case)
    return cases


def pass_queries(*, now) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = dunning_run(now=now, chunk_size=50)
    assert result.failures == 0, result.errors
    return len(queries)


@pytest.mark.parametrize(
    ("decline", "outcome"),
    [
        # Stripe is not configured in the tests: manual collection, the retry is not possible
        ("insufficient_funds", "retry not possible (no card on file, or collection is manual)"),
        ("stolen_card", "retry skipped: hard decline (stolen_card)"),
    ],
)
def test_a_pass_costs_the_same_queries_for_3_or_30_due_cases(make_tenant, decline, outcome):
    small = open_cases(make_tenant, 3, decline=decline, prefix="S")
    few = pass_queries(now=NOW)
    big = open_cases(make_tenant, 30, decline=decline, prefix="B")
    many = pass_queries(now=NOW)  # the same moment: the 3 are done, their notices not yet old
    assert many == few
    for case in small + big:
        event = DunningEvent.objects.get(case=case, key="day:1")
        assert event.done and event.outcome.startswith(outcome), event.outcome
        assert (event.notice, event.notice_status) == ("reminder", "pending")
        case.refresh_from_db()
        assert case.next_action_at == datetime(2026, 3, 4, tzinfo=UTC)  # day 3
    assert not PaymentAttempt.objects.filter(trigger="dunning").exists()


def test_an_idle_pass_costs_the_same_queries_for_3_or_30_open_cases(make_tenant):
    open_cases(make_tenant, 3, decline="insufficient_funds", prefix="S")
    DunningCase.objects.update(next_action_at=datetime(2026, 3, 4, tzinfo=UTC))
    few = pass_queries(now=NOW)
    open_cases(make_tenant, 30, decline="insufficient_funds", prefix="B")
    DunningCase.objects.update(next_action_at=datetime(2026, 3, 4, tzinfo=UTC))
    assert pass_queries(now=NOW) == few
