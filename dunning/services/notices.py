"""Dunning's emails (HTML + text, `templates/dunning/`): one per event.

A notice is decided in the transaction that records its event (`notice_status = pending`) and
sent after the commit by the task `dunning.send_notices`. Sending claims the event row
(`FOR UPDATE SKIP LOCKED`, still pending) and marks it sent in the same transaction: a send
that raises (SMTP down) rolls back and leaves it pending, with the error, for the next pass's
`notices_resend`; a concurrent sender skips the row. Nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from billing_project.shared.dispatch import dispatch_after_commit
from billing_project.shared.money import format_money
from dunning import policy as pure
from dunning.models import DunningEvent, NoticeStatus

log = logging.getLogger(__name__)

API_BASE = "/api/v1/billing"
SEND_TASK = "dunning.send_notices"
RESEND_AFTER = timedelta(minutes=1)
DATA_RETENTION_DAYS = 90

SUBJECTS = {
    "reminder": "Payment reminder: invoice {number} ({amount} due)",
    "suspension_warning": (
        "Action required: your account will be suspended on {suspension_date} "
        "(invoice {number}, {amount} due)"
    ),
    "suspended": "Account suspended: invoice {number} ({amount} due)",
    "cancelled": "Subscription cancelled for non-payment: invoice {number} ({amount} due)",
    "receipt": "Receipt: {paid} paid for invoice {number}",
}


def notice_subject(*, notice: str, case, suspension_date=None) -> str:
    invoice = case.invoice
    return SUBJECTS[notice].format(
        number=invoice.number,
        amount=format_money(invoice.amount_due, invoice.currency),
        paid=format_money(invoice.amount_paid or invoice.total, invoice.currency),
        suspension_date=suspension_date.isoformat() if suspension_date else "",
    )


def notice_plan(*, event: DunningEvent, notice: str, case, terms: pure.Policy) -> None:
    """Mark `event` to carry `notice` (saved by the caller, sent after its commit)."""
    state_date = pure.suspension_date(
        state=pure.CaseState(
            opened_at=case.opened_at, tz=case.tenant.timezone, shift_days=case.shift_days
        ),
        policy=terms,
    )
    event.notice = notice
    event.notice_status = NoticeStatus.PENDING
    event.notice_subject = notice_subject(notice=notice, case=case, suspension_date=state_date)[
        :300
    ]


def notices_send_after_commit(event_ids: list) -> None:
    """One outbox row for a whole chunk's notices."""
    if event_ids:
        dispatch_after_commit(SEND_TASK, event_ids=[int(i) for i in event_ids])


def _context(event: DunningEvent) -> dict:
    case = event.case
    invoice = case.invoice
    tenant = case.tenant
    return {
        "tenant": tenant,
        "invoice": invoice,
        "case": case,
        "event": event,
        "notice": event.notice,
        "amount_due": format_money(invoice.amount_due, invoice.currency),
        "total": format_money(invoice.total, invoice.currency),
        "pdf_url": f"{settings.BILLING_PUBLIC_URL}{API_BASE}/invoices/{invoice.pk}/pdf",
        "pay_url": f"{settings.BILLING_PUBLIC_URL}{API_BASE}/invoices/{invoice.pk}/pay",
        "api": f"{settings.BILLING_PUBLIC_URL}{API_BASE}",
        "hard_decline": bool(case.retry_skipped_reason),
        "skipped_reason": case.retry_skipped_reason,
        "decline_code": case.last_decline_code,
        "outcome": event.outcome,
        "suspension_date": _suspension_date(case),
        "retention_days": DATA_RETENTION_DAYS,
        "company": settings.BILLING_COMPANY["name"],
    }


def _suspension_date(case):
    if case.suspended_at is not None:
        return case.suspended_at.date()
    steps = [s.day for s in case.policy.steps.all() if s.suspend]
    if not steps:
        return None
    state = pure.CaseState(
        opened_at=case.opened_at, tz=case.tenant.timezone, shift_days=case.shift_days
    )
    return pure.day_start(state, min(steps)).astimezone(pure._zone(case.tenant.timezone)).date()


def _message(event: DunningEvent) -> EmailMultiAlternatives:
    context = _context(event)
    template = f"dunning/email/{event.notice}"
    message = EmailMultiAlternatives(
        subject=event.notice_subject,
        body=render_to_string(f"{template}.txt", context),
        to=[event.case.tenant.email],
        reply_to=[settings.BILLING_COMPANY["email"]] if settings.BILLING_COMPANY["email"] else None,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    pdf = event.case.invoice.pdf_file
    if event.notice != "receipt" and pdf:
        try:
            with pdf.open("rb") as handle:
                message.attach(f"{event.case.invoice.number}.pdf", handle.read(), "application/pdf")
        except OSError:
            log.warning("invoice PDF %s could not be attached", pdf.name)
    return message


def notice_send(*, event_id, now: datetime) -> bool:
    """Send one pending notice. True when this call sent it."""
    error = ""
    try:
        with transaction.atomic():
            event = (
                DunningEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("case__invoice", "case__tenant", "case__policy")
                .filter(pk=event_id, notice_status=NoticeStatus.PENDING)
                .first()
            )
            if event is None:
                return False
            _message(event).send(fail_silently=False)
            event.notice_status = NoticeStatus.SENT
            event.notice_sent_at = now
            event.notice_error = ""
            event.save(update_fields=["notice_status", "notice_sent_at", "notice_error"])
            return True
    except Exception as exc:  # SMTP down, a template error: left pending for the next pass
        log.exception("dunning notice %s could not be sent", event_id)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    DunningEvent.objects.filter(pk=event_id, notice_status=NoticeStatus.PENDING).update(
        notice_error=error
    )
    return False


def notices_send(*, event_ids, now: datetime) -> int:
    return sum(notice_send(event_id=event_id, now=now) for event_id in event_ids)


def notices_resend(*, now: datetime, limit: int = 1000) -> int:
    """Pending notices whose first send did not happen or failed (wall-clock grace)."""
    ids = list(
        DunningEvent.objects.filter(notice_status=NoticeStatus.PENDING, at__lte=now - RESEND_AFTER)
        .order_by("at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return notices_send(event_ids=ids, now=now)
