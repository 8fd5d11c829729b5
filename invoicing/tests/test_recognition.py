"""Revenue recognition (issue 14 part 2): fees billed in advance earned day by day, usage at
issue, credit notes releasing what they credit, idempotent runs, the revenue report."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from invoicing.models import Invoice
from invoicing.services import credit_notes, lifecycle
from invoicing.services.recognition import LineSchedule, recognize_through
from invoicing.services.subscription_billing import subscription_change_plan_and_invoice
from invoicing.tasks import recognize_revenue_task
from invoicing.tests.conftest import at, plan, start
from invoicing.tests.test_ledger import balances, check
from ledger.allocation import Posting
from ledger.models import JournalEntry
from ledger.services import ledger_post

pytestmark = pytest.mark.django_db

NOW = at("2026-08-01T00:00:00Z")


def recognize(day: str) -> int:
    return recognize_through(through=date.fromisoformat(day), now=NOW)


def test_a_team_fee_is_deferred_then_earned_day_by_day(tenant):
    _, invoice = start(tenant, "team", when="2026-06-01T00:00:00Z")
    assert invoice.total == 20000
    assert balances() == {"1100": 20000, "2100": -20000}
    recognize("2026-06-15")
    assert balances() == {"1100": 20000, "2100": -10000, "4000": -10000}
    recognize("2026-06-30")
    assert balances() == {"1100": 20000, "4000": -20000}
    recognize("2026-07-31")
    assert balances() == {"1100": 20000, "4000": -20000}
    assert check() == "0 differences\n"


def test_running_recognition_twice_posts_nothing_twice(tenant):
    start(tenant, "team", when="2026-06-01T00:00:00Z")
    assert recognize("2026-06-15") == 1
    count = JournalEntry.objects.count()
    assert recognize("2026-06-15") == 0
    assert JournalEntry.objects.count() == count
    out = StringIO()
    call_command("ledger_recognize", "--through", "2026-06-15", stdout=out)
    assert out.getvalue() == "0 recognition entries posted\n"
    assert balances()["4000"] == -10000


def test_a_late_run_catches_up_month_by_month(tenant, staff_client):
    start(tenant, "team", when="2026-06-16T00:00:00Z")  # 30 days: 15 in June, 15 in July
    assert recognize("2026-07-10") == 2
    events = sorted(JournalEntry.objects.filter(event__startswith="revenue").values_list("event"))
    assert events == [("revenue.recognized:2026-06-30",), ("revenue.recognized:2026-07-10",)]
    june = staff_client.get("reports/revenue", {"month": "2026-06"}).json()
    assert june == [
        {
            "month": "2026-06",
            "currency": "usd",
            "recognized": 10000,
            "by_plan_and_kind": [{"plan": "team", "kind": "plan_fee", "amount": 10000}],
            "deferred_at_month_end": 10000,
            "waterfall": [{"month": "2026-07", "amount": 10000}],
        }
    ]
    assert staff_client.get("reports/revenue", {"month": "2026-13"}).status_code == 400


def test_a_proration_recognizes_over_its_remaining_days_only(tenant):
    sub, _ = start(tenant, "developer", when="2026-06-01T00:00:00Z")
    _, _, proration = subscription_change_plan_and_invoice(
        subscription=sub, plan=plan("team"), prorate=True, now=at("2026-06-11T00:00:00Z")
    )
    (line,) = proration.lines.all()
    assert line.kind == "proration"
    assert line.period_start == at("2026-06-11T00:00:00Z")
    assert line.period_end == at("2026-07-01T00:00:00Z")
    amount = line.amount
    recognize("2026-06-10")  # the developer fee's first 10 days; nothing of the proration
    assert balances()["2100"] == -(5000 - 5000 * 10 // 30) - amount
    recognize("2026-06-20")  # 10 of its 20 days
    assert balances()["2100"] == -(5000 - 5000 * 20 // 30) - (amount - amount * 10 // 20)
    recognize("2026-06-30")
    assert "2100" not in balances()
    assert balances()["4000"] == -(5000 + amount)


def test_the_remainder_lands_on_the_last_day():
    line = LineSchedule("i", "l", "plan_fee", "team", "usd", 10001, date(2026, 6, 1), 30)
    assert [line.through(date(2026, 6, d)) for d in (1, 29, 30)] == [333, 9667, 10001]
    assert line.through(date(2026, 5, 31)) == 0


def test_an_overage_is_revenue_at_issue(tenant, usage_feed):
    start(tenant, "developer", when="2026-01-01T00:00:00Z")
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), storage_gb=15)
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=StringIO())
    february = Invoice.objects.get(period_start=at("2026-02-01T00:00:00Z"))
    assert [(ln.kind, ln.amount) for ln in february.lines.order_by("position")] == [
        ("plan_fee", 5000),
        ("overage", 2500),
    ]
    assert balances()["4100"] == -2500
    recognize("2026-01-31")
    assert balances()["4100"] == -2500 and balances()["4000"] == -5000
    assert balances()["2100"] == -5000  # February's fee, not yet earned


def test_a_credit_note_releases_what_it_credits(tenant):
    _, invoice = start(tenant, "team", when="2026-06-01T00:00:00Z")
    recognize("2026-06-15")
    credit_notes.credit_note_create(
        invoice_id=invoice.pk,
        lines=[{"description": "Goodwill", "amount": 5000}],
        reason="",
        now=at("2026-06-16T00:00:00Z"),
    )
    # The note debited 2100 by 5000: 5000 of the 10000 left; the schedule now spreads 15000.
    assert balances()["2100"] == -5000
    recognize("2026-06-16")
    assert balances()["2100"] == -(15000 - 15000 * 16 // 30)
    recognize("2026-06-30")
    assert "2100" not in balances() and balances()["4000"] == -15000
    assert check() == "0 differences\n"


def test_a_void_reverses_recognition_and_is_not_recognized_again(tenant):
    _, invoice = start(tenant, "team", when="2026-06-01T00:00:00Z")
    recognize("2026-06-15")
    lifecycle.invoice_void(invoice_id=invoice.pk, now=at("2026-06-16T00:00:00Z"))
    assert balances() == {}
    assert recognize("2026-06-30") == 0
    assert balances() == {}
    assert check() == "0 differences\n"


def test_ledger_check_finds_deferred_revenue_off_the_schedule(tenant):
    start(tenant, "team", when="2026-06-01T00:00:00Z")
    recognize("2026-06-15")
    assert check() == "0 differences\n"
    with transaction.atomic():
        ledger_post(
            event="stray",
            document_type="manual",
            document_id="x",
            currency="usd",
            posted_at=NOW,
            postings=[Posting("deferred_revenue", 100), Posting("revenue_subscription", -100)],
            now=NOW,
        )
    assert check() == (
        "deferred revenue in usd: ledger 9900, not yet recognized 10000\n1 differences\n"
    )


def test_the_daily_beat_entry_runs_the_recognition_task(tenant):
    task = PeriodicTask.objects.get(task="invoicing.recognize_revenue")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("0", "15")
    start(tenant, "team", when="2026-06-01T00:00:00Z")
    assert recognize_revenue_task.delay(through="2026-06-15").get() == 1
    assert balances()["4000"] == -10000
