"""The journal entries of invoicing's money events, the ledger APIs, ledger_check and
ledger_rebuild (issue 14 parts 1, 3 and 4)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask

from invoicing.models import Invoice
from invoicing.services import credit_notes, journal, lifecycle
from invoicing.services.custom import CustomLine, invoice_custom_create
from invoicing.tasks import ledger_check_task
from invoicing.tests.conftest import at, start
from ledger.models import ImmutableError, JournalEntry, JournalLine
from ledger.selectors import receivable_by_tenant, trial_balances

pytestmark = pytest.mark.django_db

NOW = at("2026-08-10T12:00:00Z")


def custom_invoice(tenant, *amounts, now=NOW):
    lines = [
        CustomLine(description=f"Service {i}", quantity=Decimal(1), unit_price=Decimal(a), total=a)
        for i, a in enumerate(amounts)
    ]
    invoice = invoice_custom_create(tenant_id=tenant.pk, data={"line_items": lines}, now=now)
    lifecycle.invoice_finalize(invoice_id=invoice.pk, now=now, deliver=False)
    return Invoice.objects.select_related("tenant").get(pk=invoice.pk)


def balances(currency="usd") -> dict[str, int]:
    """{account code: debit - credit} of the journal."""
    found = {}
    for tb in trial_balances(currency=currency):
        for row in tb["accounts"]:
            if row["debit"] or row["credit"]:
                found[row["code"]] = row["debit"] - row["credit"]
    return found


def check() -> str:
    out = StringIO()
    try:
        call_command("ledger_check", stdout=out)
    except SystemExit as exc:
        assert exc.code == 1
    return out.getvalue()


def test_finalization_posts_receivable_revenue_and_tax_per_jurisdiction(make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 10000)
    assert (invoice.tax, invoice.total) == (825, 10825)
    (entry,) = JournalEntry.objects.filter(document_id=str(invoice.pk))
    assert entry.event == "invoice.finalized" and entry.currency == invoice.currency
    lines = {(ln.account.code, ln.jurisdiction): (ln.debit, ln.credit) for ln in entry.lines.all()}
    assert lines == {
        ("1100", ""): (10825, 0),
        ("4100", ""): (0, 10000),
        ("2200", "US-CA"): (0, 825),
    }
    assert entry.lines.get(account__code="1100").tenant_id == tenant.pk
    assert check() == "0 differences\n"


def test_a_fee_in_advance_is_deferred(tenant):
    _, invoice = start(tenant, "team")
    fee = invoice.total
    assert fee > 0
    assert balances(invoice.currency) == {"1100": fee, "2100": -fee}


def test_a_payment_empties_the_receivable(tenant):
    invoice = custom_invoice(tenant, 10000)
    lifecycle.invoice_payment_record(
        invoice_id=invoice.pk, amount=4000, method="bank_transfer", paid_on=NOW.date(), now=NOW
    )
    assert receivable_by_tenant() == {(tenant.pk, "usd"): 6000}
    lifecycle.invoice_payment_record(
        invoice_id=invoice.pk, amount=6000, method="card", paid_on=NOW.date(), now=NOW
    )
    assert receivable_by_tenant() == {}
    assert balances() == {"1010": 6000, "1020": 4000, "4100": -10000}
    assert check() == "0 differences\n"


def test_a_credit_note_for_5000_pre_tax_in_california_reverses_413_tax_and_5000_revenue(
    make_tenant,
):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 10000)
    note = credit_notes.credit_note_create(
        invoice_id=invoice.pk,
        lines=[{"description": "Goodwill", "amount": 5413}],
        reason="",
        now=NOW,
    )
    assert note.tax == 413  # 412.5 rounded half up
    (entry,) = JournalEntry.objects.filter(document_id=str(note.pk))
    assert entry.event == "credit_note.issued"
    lines = {ln.account.code: (ln.debit, ln.credit) for ln in entry.lines.all()}
    assert lines == {"2200": (413, 0), "4100": (5000, 0), "1100": (0, 5413)}
    assert balances() == {"1100": 10825 - 5413, "2200": -(825 - 413), "4100": -5000}
    assert check() == "0 differences\n"


def test_a_void_reverses_everything(make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 3333, 6667)
    credit_notes.credit_note_create(
        invoice_id=invoice.pk, lines=[{"description": "Part", "amount": 1000}], reason="", now=NOW
    )
    lifecycle.invoice_void(invoice_id=invoice.pk, now=NOW)
    assert balances() == {}
    events = set(JournalEntry.objects.values_list("event", flat=True))
    assert events == {"invoice.finalized", "credit_note.issued", "invoice.voided"}
    assert check() == "0 differences\n"


def test_a_write_off_moves_the_balance_to_bad_debt_and_a_late_payment_recovers_it(tenant):
    invoice = custom_invoice(tenant, 10000)
    lifecycle.invoice_payment_record(
        invoice_id=invoice.pk, amount=3000, method="check", paid_on=NOW.date(), now=NOW
    )
    lifecycle.invoice_mark_uncollectible(invoice_id=invoice.pk, now=NOW)
    assert balances() == {"1020": 3000, "4100": -10000, "6100": 7000}
    assert receivable_by_tenant() == {}
    assert check() == "0 differences\n"
    lifecycle.invoice_payment_record(
        invoice_id=invoice.pk, amount=2000, method="check", paid_on=NOW.date(), now=NOW
    )
    assert balances() == {"1020": 5000, "4100": -10000, "6100": 5000}
    assert check() == "0 differences\n"


def test_running_any_event_twice_posts_nothing_twice(tenant):
    invoice = custom_invoice(tenant, 10000)
    lifecycle.invoice_finalize(invoice_id=invoice.pk, now=NOW, deliver=False)
    lifecycle.invoice_mark_uncollectible(invoice_id=invoice.pk, now=NOW)
    lifecycle.invoice_mark_uncollectible(invoice_id=invoice.pk, now=NOW)
    lifecycle.invoice_void(invoice_id=invoice.pk, now=NOW)
    lifecycle.invoice_void(invoice_id=invoice.pk, now=NOW)
    assert JournalEntry.objects.count() == 3
    before = JournalLine.objects.count()
    # The services' own guards aside, the journal refuses a second entry for a document/event.
    with transaction.atomic():
        journal.post_finalized(invoice=invoice, rows=list(invoice.lines.all()), now=NOW)
        journal.post_write_off(invoice=invoice, amount=1, posted_at=NOW, now=NOW)
    assert (JournalEntry.objects.count(), JournalLine.objects.count()) == (3, before)
    assert balances() == {}


def test_entries_are_immutable(tenant):
    custom_invoice(tenant, 100)
    entry = JournalEntry.objects.get()
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.lines.first().delete()


def test_ledger_check_reports_each_difference_and_exits_1(tenant):
    invoice = custom_invoice(tenant, 10000)
    Invoice.objects.filter(pk=invoice.pk).update(amount_due=9000)
    out = check()
    assert f"receivable of tenant {tenant.pk} in usd: ledger 10000, open invoices 9000" in out
    assert out.endswith("1 differences\n")


def test_ledger_rebuild_posts_the_history_and_is_a_no_op_twice(make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    paid = custom_invoice(tenant, 10000)
    lifecycle.invoice_payment_record(
        invoice_id=paid.pk, amount=10825, method="card", paid_on=NOW.date(), now=NOW
    )
    credited = custom_invoice(tenant, 5000, now=NOW + timedelta(hours=1))
    credit_notes.credit_note_create(
        invoice_id=credited.pk,
        lines=[{"description": "Part", "amount": 1000}],
        reason="",
        now=NOW + timedelta(hours=2),
    )
    written = custom_invoice(tenant, 700, now=NOW + timedelta(hours=3))
    lifecycle.invoice_mark_uncollectible(invoice_id=written.pk, now=NOW + timedelta(hours=4))
    voided = custom_invoice(tenant, 900, now=NOW + timedelta(hours=5))
    lifecycle.invoice_void(invoice_id=voided.pk, now=NOW + timedelta(hours=6))
    live = sorted(
        JournalLine.objects.values_list(
            "entry__event", "entry__document_id", "account__code", "debit", "credit"
        )
    )
    # The ledger as it would be had it not existed then (the triggers refuse a DELETE).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE ledger_journalline, ledger_journalentry")
    assert check().endswith(" differences\n") and not check().startswith("0 differences")
    call_command("ledger_rebuild", stdout=StringIO())
    rebuilt = sorted(
        JournalLine.objects.values_list(
            "entry__event", "entry__document_id", "account__code", "debit", "credit"
        )
    )
    assert rebuilt == live
    call_command("ledger_rebuild", stdout=StringIO())
    assert JournalLine.objects.count() == len(live)
    assert check() == "0 differences\n"


def test_trial_balance_and_entries_apis(staff_client, tenant_admin_client, make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 10000)
    lifecycle.invoice_payment_record(
        invoice_id=invoice.pk, amount=825, method="card", paid_on=NOW.date(), now=NOW
    )
    response = staff_client.get("ledger/trial-balance", {"as_of": "2026-08-10", "currency": "usd"})
    assert response.status_code == 200, response.content
    (tb,) = response.json()
    assert tb["as_of"] == "2026-08-10" and tb["currency"] == "usd"
    accounts = {row["code"]: (row["debit"], row["credit"]) for row in tb["accounts"]}
    assert accounts["1100"] == (10000, 0) and accounts["1010"] == (825, 0)
    assert accounts["4100"] == (0, 10000) and accounts["2200"] == (0, 825)
    assert tb["totals"] == {"debit": 10825, "credit": 10825}
    assert set(tb["accounts"][0]) == {"code", "name", "debit", "credit"}
    earlier = staff_client.get("ledger/trial-balance", {"as_of": "2026-08-09"}).json()
    assert earlier == []
    assert staff_client.get("ledger/trial-balance", {"as_of": "08/10"}).status_code == 400
    assert tenant_admin_client.get("ledger/trial-balance").status_code == 403

    entries = staff_client.get("ledger/entries", {"document_id": str(invoice.pk)}).json()
    (entry,) = entries
    assert set(entry) == {"id", "posted_at", "event", "document_type", "document_id", "lines"}
    assert entry["event"] == "invoice.finalized" and entry["document_type"] == "invoice"
    assert {
        "account": "1100",
        "tenant_id": str(tenant.pk),
        "debit": 10825,
        "credit": 0,
        "currency": "usd",
    } in entry["lines"]
    assert staff_client.get("ledger/entries").status_code == 400
    assert tenant_admin_client.get("ledger/entries", {"document_id": "x"}).status_code == 403


def test_the_daily_ledger_check_beat_logs_each_difference(tenant, caplog):
    entry = PeriodicTask.objects.get(task="invoicing.ledger_check")
    assert entry.enabled and entry.crontab.hour == "0"
    assert ledger_check_task.apply().get() == []
