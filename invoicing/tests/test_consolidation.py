"""Consolidated invoices: a parent's children billed on one invoice per billing day, a section
per child (taxed by its location), numbered once, the children none; the cost allocation."""

from datetime import timedelta

import pytest

from invoicing import tax_reports
from invoicing.models import Invoice, InvoiceLine, InvoiceSection
from invoicing.services import cycle
from invoicing.services.cost_allocation import allocate
from invoicing.services.journal_check import ledger_differences
from invoicing.tests.conftest import at, start
from ledger.models import JournalEntry
from subscriptions.services.hierarchies import hierarchy_set
from usage.catalog import CATALOG
from usage.services import usage_batch_record

pytestmark = pytest.mark.django_db

JAN = at("2026-01-01T00:00:00Z")
FEB = at("2026-02-01T00:00:00Z")


def use(tenant, **metrics):
    records = [
        {"metric_type": metric, "quantity": str(value), "timestamp": "2026-01-20T10:30:00Z"}
        for metric, value in metrics.items()
    ]
    usage_batch_record(tenant_id=tenant.pk, records=records, catalog=CATALOG, now=FEB)


@pytest.fixture
def group(make_tenant):
    parent = make_tenant(name="Corp")
    team = make_tenant(name="Sub Team")
    dev = make_tenant(name="Sub Dev")
    hierarchy_set(
        parent_id=parent.pk,
        billing_consolidation=True,
        payment_responsibility=True,
        children=[(team.pk, 60), (dev.pk, 40)],
        now=JAN,
    )
    for tenant in (parent, team, dev):
        tenant.refresh_from_db()
    return parent, team, dev


def test_two_children_get_one_invoice_with_two_sections(group):
    parent, team, dev = group
    team_sub, first_team = start(team, "team")
    dev_sub, first_dev = start(dev, "developer")
    assert first_team is None and first_dev is None  # the children get no invoice
    use(dev, api_calls=12000)  # 2,000 calls over Developer's 10,000 at 1 cent
    result = cycle.billing_cycle_run(now=FEB, deliver=False)
    assert result.failures == 0
    assert not Invoice.objects.filter(tenant__in=[team, dev]).exists()
    invoices = Invoice.objects.filter(tenant=parent, kind="consolidated").order_by("billing_day")
    # the first periods (billed at the start) on January 1st's, the period boundary on Feb 1st's
    assert [str(i.billing_day) for i in invoices] == ["2026-01-01", "2026-02-01"]
    january, february = invoices
    assert january.total == 25000 and january.status == "open" and january.number
    assert february.total == 25000 + 2000
    assert february.status == "open" and february.number
    assert february.subscription_id is None
    sections = list(february.sections.order_by("position"))
    assert {s.tenant_id: s.total for s in sections} == {team.pk: 20000, dev.pk: 7000}
    assert {s.subscription_id for s in sections} == {team_sub.pk, dev_sub.pk}
    lines = InvoiceLine.objects.filter(invoice=february)
    assert sum(line.amount for line in lines) == february.total
    for section in sections:
        assert sum(line.amount for line in lines if line.section_id == section.pk) == (
            section.total
        )
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert len(numbers) == 2 and len(set(numbers)) == 2  # numbered once each
    # a second run bills nothing again
    again = cycle.billing_cycle_run(now=FEB, deliver=False)
    assert again.invoices == 0 and InvoiceSection.objects.count() == 4


def test_each_section_is_taxed_by_its_childs_location(group):
    parent, team, dev = group
    team.state, team.postal_code = "CA", "94105"  # 8.25 %; the parent and dev are in Oregon
    team.save()
    start(team, "team")
    start(dev, "developer")
    cycle.billing_cycle_run(now=FEB, deliver=False)
    invoice = Invoice.objects.get(tenant=parent, billing_day="2026-02-01")
    sections = {s.tenant_id: s for s in invoice.sections.all()}
    assert (sections[team.pk].subtotal, sections[team.pk].tax) == (20000, 1650)
    assert sections[team.pk].tax_decision["jurisdiction"] == "US-CA"
    assert (sections[dev.pk].subtotal, sections[dev.pk].tax) == (5000, 0)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (25000, 1650, 26650)
    assert invoice.tax_decision["consolidated"] is True
    tax_line = InvoiceLine.objects.get(invoice=invoice, kind="tax")
    assert tax_line.section_id == sections[team.pk].pk and tax_line.amount == 1650


def test_the_consolidated_invoice_renders_and_is_collected_from_the_parent(group, staff_client):
    from invoicing.services import documents

    parent, team, dev = group
    start(team, "team")
    start(dev, "developer")
    cycle.billing_cycle_run(now=FEB, deliver=False)
    invoice = Invoice.objects.get(tenant=parent, billing_day="2026-02-01")
    assert documents.invoice_pdf_bytes(invoice)[:4] == b"%PDF"
    data = staff_client.get(f"invoices/{invoice.pk}").json()
    assert data["kind"] == "consolidated" and data["tenant_id"] == str(parent.pk)
    sections = {s["section_id"]: s["tenant_id"] for s in data["tax_decision"]["sections"]}
    assert {sections[line["section_id"]] for line in data["lines"]} == {str(team.pk), str(dev.pk)}
    page = staff_client.get("invoices", {"tenant_id": str(parent.pk)}).json()
    listed_lines = next(i for i in page["results"] if i["id"] == str(invoice.pk))["lines"]
    assert listed_lines == data["lines"]
    listed = staff_client.get("invoices", {"tenant_id": str(team.pk)}).json()
    assert listed["count"] == 0


def test_a_child_due_later_that_day_keeps_the_draft_open(group):
    parent, team, dev = group
    start(team, "team")
    start(dev, "developer", when="2026-01-01T15:00:00Z")
    result = cycle.billing_cycle_run(now=FEB, deliver=False)
    draft = Invoice.objects.get(tenant=parent, billing_day="2026-02-01")
    assert draft.status == "draft" and draft.sections.count() == 1
    later = cycle.billing_cycle_run(now=FEB + timedelta(hours=15), deliver=False)
    draft.refresh_from_db()
    assert draft.status == "open" and draft.sections.count() == 2
    assert draft.total == 25000
    assert later.invoices == 1 and result.failures == 0


def test_non_consolidating_parent_leaves_children_billed_alone(make_tenant):
    parent, child = make_tenant(), make_tenant()
    hierarchy_set(
        parent_id=parent.pk,
        billing_consolidation=False,
        payment_responsibility=False,
        children=[(child.pk, 100)],
        now=JAN,
    )
    child.refresh_from_db()
    _, first = start(child)
    assert first is not None and first.tenant_id == child.pk
    cycle.billing_cycle_run(now=FEB, deliver=False)
    assert Invoice.objects.filter(tenant=child).count() == 2
    assert not Invoice.objects.filter(tenant=parent).exists()


def test_allocation_60_40_of_25001():
    assert allocate(25001, [("a", 60), ("b", 40)]) == [("a", 15001), ("b", 10000)]
    assert allocate(100, [("a", 33.34), ("b", 33.33), ("c", 33.33)]) == [
        ("a", 34),
        ("b", 33),
        ("c", 33),
    ]
    parts = allocate(99999, [("a", 12.5), ("b", 50), ("c", 37.5)])
    assert sum(p for _, p in parts) == 99999 and parts[1] == ("b", 50001)


def test_cost_allocation_api_json_and_csv(group, staff_client, admin_client_for):
    parent, team, dev = group
    Invoice.objects.create(
        tenant=parent,
        kind="consolidated",
        status="open",
        number="TEST-1",
        currency="usd",
        billing_day="2026-03-02",
        subtotal=25001,
        total=25001,
        amount_due=25001,
        created_at=JAN,
        updated_at=JAN,
    )
    response = staff_client.get(f"tenants/{parent.pk}/cost-allocation", {"period": "2026-03"})
    assert response.status_code == 200, response.content
    block = response.json()["currencies"][0]
    assert block["total"] == 25001
    assert [(a["name"], a["amount"]) for a in block["allocations"]] == [
        ("Sub Dev", 10000),
        ("Sub Team", 15001),
    ]
    csv = staff_client.get(
        f"tenants/{parent.pk}/cost-allocation", {"period": "2026-03", "format": "csv"}
    )
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode().splitlines()
    assert rows[0].startswith("period,currency,tenant_id")
    assert rows[2].endswith(",Sub Team,60.00,15001,0")
    by_accept = admin_client_for(parent).get(
        f"tenants/{parent.pk}/cost-allocation?period=2026-03", HTTP_ACCEPT="text/csv"
    )
    assert by_accept.content == csv.content
    other = admin_client_for(team).get(f"tenants/{parent.pk}/cost-allocation")
    assert other.status_code == 404
    bad = staff_client.get(f"tenants/{parent.pk}/cost-allocation", {"period": "2026-13"})
    assert bad.status_code == 400
    empty = staff_client.get(f"tenants/{parent.pk}/cost-allocation", {"period": "2026-04"})
    assert empty.json()["currencies"] == []


def test_admin_sections_and_cost_allocation_view(group, client, django_user_model):
    parent, team, dev = group
    start(team, "team")
    start(dev, "developer")
    cycle.billing_cycle_run(now=FEB, deliver=False)
    invoice = Invoice.objects.get(tenant=parent, billing_day="2026-02-01")
    client.force_login(django_user_model.objects.create_superuser("boss", "b@x.example", "pw"))
    page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200 and b"Sub Team" in page.content
    url = "/admin/invoicing/invoice/cost-allocation/"
    page = client.get(url, {"tenant": str(parent.pk), "period": "2026-02"})
    assert page.status_code == 200 and b"$150.00" in page.content  # 60 % of $250.00
    csv = client.get(url, {"tenant": str(parent.pk), "period": "2026-02", "export": "csv"})
    assert csv["Content-Type"] == "text/csv"
    assert csv.content.decode().splitlines()[1:] == [
        f"2026-02,usd,{dev.pk},Sub Dev,40.00,10000,5000",
        f"2026-02,usd,{team.pk},Sub Team,60.00,15000,20000",
    ]
    assert client.get(url).status_code == 200


def test_post_subscriptions_for_a_child_answers_no_invoice_and_bills_the_parent(
    group, staff_client
):
    parent, team, _dev = group
    response = staff_client.post("subscriptions", {"tenant_id": str(team.pk), "plan_id": "team"})
    assert response.status_code == 201, response.content
    assert not Invoice.objects.filter(tenant=team).exists()
    draft = Invoice.objects.get(tenant=parent, kind="consolidated")
    assert draft.status == "draft" and draft.total == 20000
    from billing_project.shared.clock import utcnow

    cycle.billing_cycle_run(now=utcnow(), deliver=False)
    draft.refresh_from_db()
    assert draft.status == "open" and draft.number


def test_tax_reports_count_each_section_under_its_own_jurisdiction(group):
    parent, team, dev = group
    dev.state, dev.postal_code = "NY", "10001"  # 8 %
    dev.save()
    team.state, team.postal_code = "CA", "94105"  # 8.25 %
    team.save()
    start(team, "team")
    start(dev, "developer")
    cycle.billing_cycle_run(now=FEB, deliver=False)
    # January's invoice (the first periods) and February's are both issued by this run.
    rows = {r["state"]: r for r in tax_reports.us_report(month="2026-02")["rows"]}
    assert {s: (r["taxable"], r["tax"], r["invoices"]) for s, r in rows.items()} == {
        "CA": (40000, 3300, 2),
        "NY": (10000, 800, 2),
    }


def test_the_consolidated_invoice_posts_to_the_parents_receivable(group):
    parent, team, dev = group
    start(team, "team")
    start(dev, "developer")
    cycle.billing_cycle_run(now=FEB, deliver=False)
    invoice = Invoice.objects.get(tenant=parent, billing_day="2026-02-01")
    (entry,) = JournalEntry.objects.filter(document_id=str(invoice.pk))
    receivable = entry.lines.get(account__role="receivable")
    assert (receivable.tenant_id, receivable.debit) == (parent.pk, invoice.total)
    assert ledger_differences() == []
