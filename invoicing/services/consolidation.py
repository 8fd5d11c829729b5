"""Consolidated invoices: a parent with `billing_consolidation` gets one invoice per billing day
(the day in the parent's timezone when the charge is billed) holding every charge of its
children billed that day, a section per charge, the child's tax by the child's location; the
children get no invoice. The invoice is the parent's (its card pays, it is dunned).

A child's charge is priced as its own invoice would be, then attached to the parent's draft for
the day (`invoice_one_consolidated_per_day`; once that day's invoice is issued, a late charge
goes on the next day's). The cycle finalizes a draft once no child of the parent is still due
that day, or when the day is over (`consolidated_due_finalize`, at the end of every run).
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from billing_project.shared.errors import Conflict
from invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSection, InvoiceStatus
from invoicing.services import journal
from invoicing.services.finalization import finalize_open
from invoicing.services.taxation import invoice_tax_apply, tax_context
from invoicing.services.totals import apply_totals
from subscriptions.models import Subscription, Tenant
from tax.decision import TaxTableError

MAX_DAYS_AHEAD = 31


def consolidating_parent(tenant: Tenant) -> Tenant | None:
    """The parent that takes `tenant`'s charges, if any (no query for a tenant without one)."""
    if tenant.parent_id is None:
        return None
    return Tenant.objects.filter(pk=tenant.parent_id, billing_consolidation=True).first()


def _day_bounds(parent: Tenant, day) -> tuple[datetime, datetime]:
    tz = ZoneInfo(parent.timezone or "UTC")
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _draft_for(*, parent: Tenant, currency: str, now: datetime) -> Invoice:
    """The parent's draft for today (locked), made if needed; the next day's when today's
    consolidated invoice was already issued."""
    day = now.astimezone(ZoneInfo(parent.timezone or "UTC")).date()
    for _ in range(MAX_DAYS_AHEAD):
        key = {"tenant": parent, "kind": InvoiceKind.CONSOLIDATED, "billing_day": day}
        invoice = Invoice.objects.select_for_update().filter(**key, currency=currency).first()
        if invoice is None:
            try:
                with transaction.atomic():
                    invoice = Invoice.objects.create(
                        **key,
                        currency=currency,
                        status=InvoiceStatus.DRAFT,
                        payment_terms=parent.payment_terms,
                        created_by="billing",
                        created_at=now,
                        updated_at=now,
                    )
            except IntegrityError:  # a concurrent charge made it: take its row
                continue
        if invoice.status == InvoiceStatus.DRAFT:
            return invoice
        day += timedelta(days=1)
    raise Conflict("No consolidated invoice is open for the parent.", code="consolidation_full")


def section_attach(*, built: Invoice, rows: list[InvoiceLine], parent: Tenant, now: datetime):
    """Put a child's priced (unsaved, untaxed) invoice on the parent's draft as a section."""
    draft = _draft_for(parent=parent, currency=built.currency, now=now)
    agg = InvoiceSection.objects.filter(invoice=draft).aggregate(n=Max("position"))
    last_line = InvoiceLine.objects.filter(invoice=draft).aggregate(n=Max("position"))["n"]
    section = InvoiceSection.objects.create(
        invoice=draft,
        tenant=built.tenant,
        subscription=built.subscription,
        source_kind=built.kind,
        position=(agg["n"] + 1) if agg["n"] is not None else 0,
        period_start=built.period_start,
        period_end=built.period_end,
        subtotal=built.subtotal,
        discount=built.discount,
        tax=0,
        total=built.subtotal - built.discount,
        contract_version=built.contract_version,
        created_at=now,
    )
    first = (last_line + 1) if last_line is not None else 0
    for offset, row in enumerate(rows):
        row.invoice = draft
        row.section = section
        row.position = first + offset
    InvoiceLine.objects.bulk_create(rows)
    all_rows = list(InvoiceLine.objects.filter(invoice=draft))
    apply_totals(draft, all_rows)
    draft.period_start = min(filter(None, (draft.period_start, built.period_start)), default=None)
    draft.period_end = max(filter(None, (draft.period_end, built.period_end)), default=None)
    draft.updated_at = now
    draft.save()
    return draft


def consolidated_finalize(*, invoice: Invoice, now: datetime, deliver: bool = True) -> Invoice:
    """Tax each section by its child's location, then number and open the invoice once."""
    sections = list(invoice.sections.select_related("tenant").order_by("position"))
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    context = tax_context()
    ordered: list[InvoiceLine] = []
    by_section = []
    for section in sections:
        rows = [row for row in lines if row.section_id == section.pk]
        probe = Invoice(tenant=section.tenant, currency=invoice.currency)
        try:
            invoice_tax_apply(
                invoice=probe, rows=rows, tenant=section.tenant, now=now, context=context
            )
        except TaxTableError as exc:
            raise Conflict(str(exc), code="tax_table_incomplete") from exc
        for row in rows:
            row.invoice = invoice
            row.section = section
        for name in ("subtotal", "discount", "tax", "total"):
            setattr(section, name, getattr(probe, name))
        section.tax_decision = probe.tax_decision
        by_section.append(
            {
                "section_id": str(section.pk),
                "section": section.position,
                "tenant_id": str(section.tenant_id),
                **probe.tax_decision,
            }
        )
        ordered.extend(rows)
    for position, row in enumerate(ordered):
        row.position = position
    stored = {row.pk for row in lines}
    InvoiceLine.objects.bulk_update([r for r in ordered if r.pk in stored], ["position"])
    InvoiceLine.objects.bulk_create([r for r in ordered if r.pk not in stored])
    InvoiceSection.objects.bulk_update(
        sections, ["subtotal", "discount", "tax", "total", "tax_decision"]
    )
    apply_totals(invoice, ordered)
    invoice.tax_decision = _combined_decision(by_section, tax=invoice.tax)
    finalize_open(invoice=invoice, now=now, deliver=deliver)
    invoice.save()
    journal.post_finalized(invoice=invoice, rows=ordered, now=now)
    return invoice


def _combined_decision(by_section: list[dict], *, tax: int) -> dict:
    first = by_section[0] if by_section else {}
    return {
        **first,
        "consolidated": True,
        "taxable": sum(d.get("taxable", 0) for d in by_section),
        "tax": tax,
        "by_rate": [rate for d in by_section for rate in d.get("by_rate", ())],
        "sections": by_section,
    }


def _children_due(*, parent_id, after: datetime, until: datetime) -> bool:
    return (
        Subscription.objects.live()
        .filter(tenant__parent_id=parent_id)
        .filter(
            Q(current_period_end__gt=after, current_period_end__lte=until)
            | Q(trial_end__gt=after, trial_end__lte=until)
        )
        .exists()
    )


def consolidated_due_finalize(*, now: datetime, deliver: bool = True) -> list[Invoice]:
    """Finalize the drafts whose billing day has begun and whose children are all billed for
    the day (none still due before the day ends), or whose day is over."""
    drafts = Invoice.objects.filter(
        kind=InvoiceKind.CONSOLIDATED, status=InvoiceStatus.DRAFT
    ).select_related("tenant")
    finalized = []
    for draft in drafts:
        start, end = _day_bounds(draft.tenant, draft.billing_day)
        if now < start:
            continue
        if now < end and _children_due(parent_id=draft.tenant_id, after=now, until=end):
            continue
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().filter(pk=draft.pk).first()
            if locked is None or locked.status != InvoiceStatus.DRAFT:
                continue
            if not locked.sections.exists():
                continue
            finalized.append(consolidated_finalize(invoice=locked, now=now, deliver=deliver))
    return finalized
