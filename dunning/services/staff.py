"""Staff actions on a case (admin and `POST dunning/cases/{id}/...`) and the new-card retry.

An action whose outcome already holds returns the case unchanged; one its state forbids raises
Conflict (409 `invalid_case_status`).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from billing_project.shared.errors import Conflict
from dunning import policy as pure
from dunning.models import CaseStatus, DunningCase, DunningEvent, EventKind
from dunning.selectors import ACTIVE, PolicyCache, case_state
from dunning.services.cases import case_lock
from dunning.services.runner import case_charge
from dunning.services.status import tenants_status_refresh
from invoicing.models import Invoice, InvoiceStatus
from invoicing.services import lifecycle
from payments.models import PaymentAttemptStatus


def _conflict(action: str, case: DunningCase) -> Conflict:
    return Conflict(
        f"Cannot {action} a dunning case whose status is {case.status}.",
        code="invalid_case_status",
    )


def _event(case, *, kind: str, key: str, now: datetime, actor: str, outcome: str = ""):
    return DunningEvent.objects.create(
        case=case, key=key, kind=kind, outcome=outcome[:300], done=True, actor=actor, at=now
    )


def _next_key(case, prefix: str) -> str:
    return f"{prefix}:{DunningEvent.objects.filter(case=case, key__startswith=prefix).count() + 1}"


def case_pause(*, case_id, now: datetime, actor: str = "") -> DunningCase:
    with transaction.atomic():
        case = case_lock(case_id=case_id)
        if case.status == CaseStatus.PAUSED:
            return case
        if case.status != CaseStatus.OPEN:
            raise _conflict("pause", case)
        case.status = CaseStatus.PAUSED
        case.paused_at = now
        case.next_action_at = None
        case.updated_at = now
        case.save()
        _event(case, kind=EventKind.PAUSED, key=_next_key(case, "paused"), now=now, actor=actor)
    return case


def case_resume(*, case_id, now: datetime, actor: str = "") -> DunningCase:
    """Back on schedule, every later step shifted by the whole days spent paused."""
    with transaction.atomic():
        case = case_lock(case_id=case_id)
        if case.status == CaseStatus.OPEN:
            return case
        if case.status != CaseStatus.PAUSED:
            raise _conflict("resume", case)
        tz = pure._zone(case.tenant.timezone)
        paused_days = (now.astimezone(tz).date() - case.paused_at.astimezone(tz).date()).days
        case.shift_days += max(paused_days, 0)
        case.status = CaseStatus.OPEN
        case.paused_at = None
        state = case_state(case)
        terms = PolicyCache().get(case.policy_id)
        case.next_action_at = pure.next_action_at(
            state=state, policy=terms, day=pure.day_number(state, now)
        )
        case.updated_at = now
        case.save()
        _event(
            case,
            kind=EventKind.RESUMED,
            key=_next_key(case, "resumed"),
            now=now,
            actor=actor,
            outcome=f"schedule shifted by {paused_days} day(s)",
        )
    return case


def _retry(case: DunningCase, *, key: str, now: datetime, actor: str) -> DunningCase:
    """Charge now and record it as an event `key` (unique: a repeat does not charge again)."""
    try:
        with transaction.atomic():
            event = DunningEvent.objects.create(
                case=case, key=key, kind=EventKind.RETRY, actor=actor, at=now
            )
    except IntegrityError:
        return case
    attempt = case_charge(case=case, now=now)
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        if attempt is not None:
            attempt.refresh_from_db()
            if attempt.status == PaymentAttemptStatus.FAILED:
                case.last_decline_code = attempt.decline_code or attempt.failure_code
                case.save(update_fields=["last_decline_code"])
        event.attempt = attempt
        event.done = True
        event.outcome = (
            f"attempt {attempt.number}: {attempt.status}" if attempt else "no card to charge"
        )
        event.save(update_fields=["attempt", "done", "outcome"])
    return DunningCase.objects.get(pk=case.pk)


def case_retry(*, case_id, now: datetime, actor: str = "") -> DunningCase:
    """Staff: charge the invoice now, whatever the schedule (a hard decline included)."""
    case = DunningCase.objects.select_related("invoice").get(pk=case_id)
    if case.status in (CaseStatus.RECOVERED, CaseStatus.WRITTEN_OFF):
        raise _conflict("retry", case)
    if case.invoice.status != InvoiceStatus.OPEN:
        raise _conflict("retry", case)
    return _retry(case, key=_next_key(case, "retry"), now=now, actor=actor)


def tenant_cases_retry(*, tenant_id, payment_method_id, now: datetime) -> int:
    """A new default card: retry each of the tenant's unpaid cases at once (open, paused or
    exhausted), once per card."""
    cases = DunningCase.objects.select_related("invoice").filter(
        tenant_id=tenant_id,
        status__in=(*ACTIVE, CaseStatus.EXHAUSTED),
        invoice__status=InvoiceStatus.OPEN,
    )
    retried = 0
    for case in cases:
        DunningCase.objects.filter(pk=case.pk).update(retry_skipped_reason="")
        _retry(case, key=f"card:{payment_method_id}", now=now, actor="new default card")
        retried += 1
    return retried


def case_write_off(*, case_id, now: datetime, actor: str = "") -> DunningCase:
    """Give up collecting: the invoice becomes `uncollectible`, the case `written_off`."""
    with transaction.atomic():
        case = case_lock(case_id=case_id)
        if case.status == CaseStatus.WRITTEN_OFF:
            return case
        if case.status == CaseStatus.RECOVERED:
            raise _conflict("write off", case)
        if case.invoice.status == InvoiceStatus.OPEN:
            lifecycle.invoice_mark_uncollectible(invoice_id=case.invoice_id, now=now)
        case.status = CaseStatus.WRITTEN_OFF
        case.closed_at = now
        case.closed_reason = "written off"
        case.next_action_at = None
        case.updated_at = now
        case.save()
        _event(case, kind=EventKind.WRITTEN_OFF, key="written_off", now=now, actor=actor)
        tenants_status_refresh(tenant_ids=[case.tenant_id], now=now)
    return case


def invoice_write_off(*, invoice_id, now: datetime, actor: str = "") -> Invoice:
    """Staff: write an open invoice off. With a dunning case on it, the case is written off
    (which marks the invoice uncollectible, closes the case and restores the tenant's status);
    otherwise the invoice is marked uncollectible (`POST invoices/{id}/mark-uncollectible`)."""
    case = (
        DunningCase.objects.filter(invoice_id=invoice_id)
        .exclude(status__in=(CaseStatus.RECOVERED, CaseStatus.WRITTEN_OFF))
        .first()
    )
    if case is not None:
        case_write_off(case_id=case.pk, now=now, actor=actor)
        return Invoice.objects.get(pk=invoice_id)
    return lifecycle.invoice_mark_uncollectible(invoice_id=invoice_id, now=now)
