"""Opening and closing dunning cases.

A case opens on the first failed collection of an open invoice (payments sends
`dunning.payment_failed` after it records the failure; the pass also opens any it missed) and
closes `recovered` when the invoice stops being owed by any path (paid by a retry, `POST
invoices/{id}/pay`, a new default card, a webhook, a manual payment, a credit note, or voided:
invoicing sends `dunning.invoice_settled`; the pass also settles any it missed).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from dunning import policy as pure
from dunning.models import CaseStatus, DunningCase, DunningEvent, EventKind
from dunning.selectors import ACTIVE, PolicyCache, case_state, policy_for_tenant
from dunning.services.notices import notice_subject, notices_send_after_commit
from dunning.services.status import tenants_status_refresh
from invoicing.models import Invoice, InvoiceStatus
from payments.models import PaymentAttempt, PaymentAttemptStatus
from payments.selectors import failed_attempts

log = logging.getLogger(__name__)


def case_open(*, invoice_id, now: datetime) -> DunningCase | None:
    """The case of an invoice whose collection failed (created on the first call; None when
    the invoice is not open or never failed). Idempotent."""
    existing = DunningCase.objects.filter(invoice_id=invoice_id).first()
    if existing is not None:
        return existing
    first = failed_attempts(invoice_id=invoice_id).first()
    if first is None:
        return None
    try:
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update(of=("self",)).select_related("tenant")
            invoice = invoice.filter(pk=invoice_id).first()
            if invoice is None or invoice.status != InvoiceStatus.OPEN or invoice.amount_due <= 0:
                return None
            policy = policy_for_tenant(tenant_id=invoice.tenant_id)
            terms = PolicyCache().get(policy.pk)
            state = pure.CaseState(opened_at=first.created_at, tz=invoice.tenant.timezone)
            day = pure.day_number(state, now)
            case = DunningCase.objects.create(
                tenant_id=invoice.tenant_id,
                invoice=invoice,
                policy=policy,
                first_attempt=first,
                status=CaseStatus.OPEN,
                stage=pure.stage_of(state=state, policy=terms, day=day),
                opened_at=first.created_at,
                # Due at once when opened late (the pass catches up); else the first step.
                next_action_at=pure.next_action_at(state=state, policy=terms, day=-1),
                last_decline_code=first.decline_code or first.failure_code,
                created_at=now,
                updated_at=now,
            )
            DunningEvent.objects.create(
                case=case,
                key="opened",
                kind=EventKind.OPENED,
                day=0,
                outcome=f"collection failed ({first.decline_code or first.failure_code})",
                attempt=first,
                done=True,
                at=now,
            )
            tenants_status_refresh(tenant_ids=[case.tenant_id], now=now)
    except IntegrityError:  # a concurrent call opened it
        return DunningCase.objects.filter(invoice_id=invoice_id).first()
    return case


def cases_open_missing(*, now: datetime, limit: int = 1000) -> int:
    """The backstop: failed collections of open invoices that have no case yet."""
    invoice_ids = list(
        PaymentAttempt.objects.filter(
            status=PaymentAttemptStatus.FAILED,
            invoice__status=InvoiceStatus.OPEN,
            invoice__dunning_case__isnull=True,
            created_at__lte=now,
        )
        .values_list("invoice_id", flat=True)
        .distinct()[:limit]
    )
    return sum(case_open(invoice_id=i, now=now) is not None for i in invoice_ids)


def _paid_by_card(invoice_id) -> bool:
    return PaymentAttempt.objects.filter(
        invoice_id=invoice_id, status=PaymentAttemptStatus.SUCCEEDED
    ).exists()


def case_settle(*, invoice_id, now: datetime) -> DunningCase | None:
    """Close the invoice's case `recovered` if it is no longer owed (paid or void), restore the
    tenant, and send a receipt unless the card payment already did (payments sends those)."""
    with transaction.atomic():
        case = (
            DunningCase.objects.select_for_update(of=("self",))
            .select_related("invoice", "tenant", "policy")
            .filter(invoice_id=invoice_id)
            .first()
        )
        if case is None or case.status in (CaseStatus.RECOVERED, CaseStatus.WRITTEN_OFF):
            return case
        invoice = case.invoice
        if invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.VOID):
            return case
        paid = invoice.status == InvoiceStatus.PAID
        case.status = CaseStatus.RECOVERED
        case.closed_at = now
        case.closed_reason = "paid" if paid else "invoice voided"
        case.next_action_at = None
        case.updated_at = now
        case.save()
        event = DunningEvent(
            case=case,
            key="recovered",
            kind=EventKind.RECOVERED,
            outcome=case.closed_reason,
            done=True,
            at=now,
        )
        if paid and not _paid_by_card(invoice.pk):
            event.notice = "receipt"
            event.notice_status = "pending"
            event.notice_subject = notice_subject(notice="receipt", case=case)
        event.save()
        if event.notice_status:
            notices_send_after_commit([event.pk])
        tenants_status_refresh(tenant_ids=[case.tenant_id], now=now)
    return case


def cases_settle_missing(*, now: datetime, limit: int = 1000) -> int:
    """The backstop: active cases whose invoice was paid or voided without the news arriving."""
    invoice_ids = list(
        DunningCase.objects.filter(
            status__in=(*ACTIVE, CaseStatus.EXHAUSTED),
            invoice__status__in=(InvoiceStatus.PAID, InvoiceStatus.VOID),
        ).values_list("invoice_id", flat=True)[:limit]
    )
    for invoice_id in invoice_ids:
        case_settle(invoice_id=invoice_id, now=now)
    return len(invoice_ids)


def case_lock(*, case_id) -> DunningCase:
    return (
        DunningCase.objects.select_for_update(of=("self",))
        .select_related("invoice", "tenant", "policy")
        .get(pk=case_id)
    )


__all__ = [
    "case_lock",
    "case_open",
    "case_settle",
    "case_state",
    "cases_open_missing",
    "cases_settle_missing",
]
