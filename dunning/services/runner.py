"""The dunning pass: run the steps that have come due on every open case.

What beat runs (`dunning.run_steps`) and `run_billing_cycle --now` runs first. Work is done in
chunks of `CHUNK_SIZE` due cases, each chunk one transaction holding its case rows with
`FOR UPDATE SKIP LOCKED` (two passes never wait for each other nor act on one case): the due
steps are recorded as `DunningEvent` rows (unique per case and day), statuses, notices and the
next action time are written in bulk, so a chunk costs a constant number of queries.

A payment retry cannot run inside that transaction: payments commits its attempt before it
calls Stripe, so a crash can never charge twice. A step with a retry payments can make (one
query for the chunk: `invoices_collectable`) is therefore recorded unfinished (`done = false`)
in the chunk, and after the commit each such case is charged and then finished in its own small
transaction; a retry payments cannot make (manual collection, no card) is finished in the chunk
with the same outcome as after the call ("retry not possible"). A charged step is finished
after its charge (the rest of its step: suspend, cancel, notice — or nothing, when the retry
paid). A worker killed in between leaves the event unfinished; the
next pass finishes it, charging only if no dunning attempt was made since the event (a pending
attempt is payments' to resolve, with the same idempotency key).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from dunning import policy as pure
from dunning.models import (
    CaseStage,
    CaseStatus,
    DunningCase,
    DunningEvent,
    EventKind,
)
from dunning.selectors import PolicyCache, case_state, hard_decline_codes
from dunning.services.bulk import rows_update
from dunning.services.cases import case_lock, cases_open_missing, cases_settle_missing
from dunning.services.notices import notice_plan, notices_resend, notices_send_after_commit
from dunning.services.status import tenants_status_refresh
from invoicing.models import InvoiceStatus
from invoicing.services import lifecycle
from invoicing.services.subscription_billing import subscription_cancel_now_and_invoice
from payments.models import PaymentAttempt, PaymentAttemptStatus, PaymentAttemptTrigger
from payments.services.collection import invoice_collect, invoices_collectable
from subscriptions.models import Subscription

log = logging.getLogger(__name__)

CHUNK_SIZE = 200
# What a chunk reads of each case's invoice and tenant (their JSON and text columns cost more
# to load than the rest of the pass's Python per case).
CHUNK_CASE_FIELDS = (
    *(f.name for f in DunningCase._meta.concrete_fields),
    "invoice__id",
    "invoice__number",
    "invoice__status",
    "invoice__currency",
    "invoice__total",
    "invoice__amount_paid",
    "invoice__amount_due",
    "tenant__id",
    "tenant__timezone",
    "tenant__email",
    "tenant__status",
)
CANCELLATION_REASON = "non_payment"


@dataclass
class PassResult:
    now: datetime
    cases: int = 0
    steps: int = 0
    retries: int = 0
    recovered: int = 0
    notices: int = 0
    suspended: int = 0
    cancelled: int = 0
    failures: int = 0
    opened: int = 0
    errors: list = field(default_factory=list)

    def summary_line(self) -> str:
        return (
            f"dunning: {self.cases} cases acted on, {self.steps} steps, {self.retries} retries, "
            f"{self.recovered} recovered, {self.suspended} suspended, {self.cancelled} "
            f"cancelled, {self.notices} notices, {self.failures} failures"
        )


# --- applying a step's actions (the caller holds the case row) -------------------------------


def _apply_after_retry(
    *, case: DunningCase, event: DunningEvent, due: pure.Due, terms: pure.Policy, now, result
) -> list:
    """The rest of a due step once any retry is done and did not pay: suspend, cancel, mark
    uncollectible, plan the notice, set the stage and the next action. Returns the tenant ids
    whose status must be refreshed (the caller batches them): none when the case's stage and
    status stay as they were, so its tenant's status cannot have changed."""
    unchanged = case.stage == due.stage and not (due.suspend or due.cancel)
    if due.suspend and case.suspended_at is None:
        case.suspended_at = now
        result.suspended += 1
    if due.cancel and case.cancelled_at is None:
        _cancel_subscription(case=case, now=now)
        case.cancelled_at = now
        case.status = CaseStatus.EXHAUSTED
        case.closed_at = now
        case.closed_reason = "policy exhausted: subscription cancelled for non-payment"
        result.cancelled += 1
    if due.mark_uncollectible and case.invoice.status == InvoiceStatus.OPEN:
        lifecycle.invoice_mark_uncollectible(invoice_id=case.invoice_id, now=now)
    case.stage = due.stage
    case.next_action_at = None if case.status == CaseStatus.EXHAUSTED else due.next_action_at
    case.updated_at = now
    if due.notice:
        notice_plan(event=event, notice=due.notice, case=case, terms=terms)
        result.notices += 1
    event.done = True
    return [] if unchanged else [case.tenant_id]


def _cancel_subscription(*, case: DunningCase, now: datetime) -> None:
    live = Subscription.objects.live().filter(tenant_id=case.tenant_id).values_list("pk", flat=True)
    for subscription_id in live:
        subscription_cancel_now_and_invoice(
            subscription_id=subscription_id, reason=CANCELLATION_REASON, now=now, actor="dunning"
        )


def _step_events(case: DunningCase, due: pure.Due, now: datetime) -> list[DunningEvent]:
    """One event per due step; the last carries what the pass does (a late pass folds the
    earlier ones into it: one retry, one notice)."""
    events = []
    last = due.steps[-1]
    for step in due.steps:
        folded = step is not last
        events.append(
            DunningEvent(
                case=case,
                key=f"day:{step.day}",
                kind=EventKind.STEP,
                day=step.day,
                actions=list(step.actions if folded else due.actions),
                outcome=f"caught up on day {due.day}: folded into day {last.day}" if folded else "",
                done=folded,
                at=now,
            )
        )
    return events


# --- the chunk ---------------------------------------------------------------------------------


@dataclass
class _Retry:
    case_id: object
    event_id: int


def _finish_without_charge(*, case, event, done_days, now, cache, result) -> set:
    """`_finish_step` with no attempt, in the chunk: the step wanted a retry but payments can
    open no charge (manual collection, no card, nothing owed). Same outcome and actions."""
    event.outcome = _outcome(None)[:300]
    if case.invoice.status != InvoiceStatus.OPEN:
        event.done = True  # settled meanwhile: nothing else to do
        if case.invoice.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
            result.recovered += 1
        return set()
    terms = cache.get(case.policy_id)
    state = case_state(case, done_days=done_days)
    due = pure.due_after_retry(
        state=state, policy=terms, actions=event.actions, now=max(now, event.at)
    )
    return set(
        _apply_with_savepoint(case=case, event=event, due=due, terms=terms, now=now, result=result)
    )


def _apply_with_savepoint(*, case, event, due, terms, now, result) -> list:
    """`_apply_after_retry`; in a savepoint when it writes (a cancellation bills, marking
    uncollectible): the other actions only change the rows in memory."""
    if due.cancel or due.mark_uncollectible:
        with transaction.atomic():
            return _apply_after_retry(
                case=case, event=event, due=due, terms=terms, now=now, result=result
            )
    return _apply_after_retry(case=case, event=event, due=due, terms=terms, now=now, result=result)


def _run_chunk(case_ids, *, now: datetime, cache: PolicyCache, hard: frozenset, result):
    """One transaction: lock the chunk's due cases, record their steps, apply what needs no
    charge (a retry payments cannot make — manual collection, no card — included). Returns the
    retries to make after the commit, and the cases whose retry was found impossible."""
    retries: list[_Retry] = []
    uncharged: list = []
    with transaction.atomic():
        cases = list(
            DunningCase.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invoice", "tenant")
            .only(*CHUNK_CASE_FIELDS)
            .filter(pk__in=case_ids, status=CaseStatus.OPEN, next_action_at__lte=now)
            .order_by("next_action_at", "id")
        )
        if not cases:
            return retries, uncharged
        done_days: dict = defaultdict(set)
        for case_id, day in DunningEvent.objects.filter(
            case__in=cases, kind=EventKind.STEP
        ).values_list("case_id", "day"):
            done_days[case_id].add(day)
        events: list[DunningEvent] = []
        finishing: list[tuple] = []
        step_days: dict = {}
        tenants: set = set()
        for case in cases:
            terms = cache.get(case.policy_id)
            state = case_state(case, done_days=done_days[case.pk])
            due = pure.due_actions(state=state, policy=terms, now=now)
            if not due.anything:  # the grace period ended, or the schedule changed
                if case.stage != due.stage:
                    tenants.add(case.tenant_id)
                case.stage = due.stage
                case.next_action_at = due.next_action_at
                case.updated_at = now
                continue
            result.cases += 1
            result.steps += len(due.steps)
            step_events = _step_events(case, due, now)
            events.extend(step_events)
            step_days[case.pk] = {step.day for step in due.steps}
            acting = step_events[-1]
            if due.retry:
                decision = pure.retry_decision(decline_code=case.last_decline_code, hard_codes=hard)
                if decision.retry:
                    acting.outcome = "retrying payment"
                    finishing.append((case, acting, None))
                    continue
                acting.outcome = f"retry skipped: {decision.reason}"
                case.retry_skipped_reason = decision.reason[:300]
            finishing.append((case, acting, due))
        DunningEvent.objects.bulk_create(events)
        wanting = [case.invoice_id for case, _, due in finishing if due is None]
        collectable = invoices_collectable(invoice_ids=wanting) if wanting else set()
        for case, event, due in finishing:
            if due is None and case.invoice_id in collectable:
                retries.append(_Retry(case_id=case.pk, event_id=event.pk))
            elif due is None:
                days = done_days[case.pk] | step_days[case.pk]
                tenants.update(
                    _finish_without_charge(
                        case=case, event=event, done_days=days, now=now, cache=cache, result=result
                    )
                )
                uncharged.append(case.pk)
            else:
                tenants.update(
                    _apply_with_savepoint(
                        case=case, event=event, due=due, terms=cache.get(case.policy_id),
                        now=now, result=result,
                    )
                )  # fmt: skip
        retrying = {item.case_id for item in retries}
        rows_update(
            cases,
            [
                "stage",
                "next_action_at",
                "suspended_at",
                "cancelled_at",
                "status",
                "closed_at",
                "closed_reason",
                "retry_skipped_reason",
                "updated_at",
            ],
        )
        applied = [event for case, event, due in finishing if case.pk not in retrying]
        rows_update(applied, ["done", "outcome", "notice", "notice_status", "notice_subject"])
        tenants_status_refresh(tenant_ids=tenants, now=now)
        notices_send_after_commit([e.pk for e in applied if e.notice_status])
    return retries, uncharged


# --- retries, after the chunk's commit -----------------------------------------------------


def _dunning_attempt_since(case: DunningCase, since: datetime) -> PaymentAttempt | None:
    return (
        PaymentAttempt.objects.filter(
            invoice_id=case.invoice_id,
            trigger=PaymentAttemptTrigger.DUNNING,
            created_at__gte=since,
        )
        .order_by("-number")
        .first()
    )


def case_charge(*, case: DunningCase, now: datetime) -> PaymentAttempt | None:
    """Charge the case's invoice now (payments' own transactions and idempotency key)."""
    return invoice_collect(
        invoice_id=case.invoice_id, now=now, trigger=PaymentAttemptTrigger.DUNNING
    )


def _outcome(attempt: PaymentAttempt | None) -> str:
    if attempt is None:
        return "retry not possible (no card on file, or collection is manual)"
    if attempt.status == PaymentAttemptStatus.SUCCEEDED:
        return f"retry succeeded (attempt {attempt.number})"
    if attempt.status == PaymentAttemptStatus.PENDING:
        return f"retry pending (attempt {attempt.number}: Stripe unreachable, retried by payments)"
    return (
        f"retry failed (attempt {attempt.number}: {attempt.decline_code or attempt.failure_code})"
    )


def _finish_step(*, event_id, attempt: PaymentAttempt | None, now, cache, result) -> None:
    """The rest of a step whose retry was made (or found made): one small transaction."""
    with transaction.atomic():
        event = DunningEvent.objects.select_for_update().filter(pk=event_id, done=False).first()
        if event is None:
            return
        case = case_lock(case_id=event.case_id)
        event.attempt = attempt
        event.outcome = _outcome(attempt)[:300]
        if attempt is not None and attempt.status == PaymentAttemptStatus.FAILED:
            case.last_decline_code = attempt.decline_code or attempt.failure_code
        if case.status != CaseStatus.OPEN or case.invoice.status != InvoiceStatus.OPEN:
            event.done = True  # recovered meanwhile (the retry paid): nothing else to do
            event.save(update_fields=["attempt", "outcome", "done"])
            case.save(update_fields=["last_decline_code"])
            if case.invoice.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
                result.recovered += 1
            return
        terms = cache.get(case.policy_id)
        due = pure.due_after_retry(
            state=case_state(case), policy=terms, actions=event.actions, now=max(now, event.at)
        )
        tenants = _apply_after_retry(
            case=case, event=event, due=due, terms=terms, now=now, result=result
        )
        case.save()
        event.save()
        tenants_status_refresh(tenant_ids=tenants, now=now)
        if event.notice_status:
            notices_send_after_commit([event.pk])


def _retry_and_finish(item: _Retry, *, now, cache, result) -> None:
    case = DunningCase.objects.select_related("invoice").get(pk=item.case_id)
    attempt = case_charge(case=case, now=now)
    result.retries += int(attempt is not None)
    if attempt is not None:
        attempt.refresh_from_db()
    _finish_step(event_id=item.event_id, attempt=attempt, now=now, cache=cache, result=result)


def events_resume(*, now: datetime, cache: PolicyCache, result: PassResult) -> int:
    """Steps a dead worker left unfinished: charge only if no dunning attempt was made since
    the step was recorded, then finish it."""
    unfinished = list(
        DunningEvent.objects.filter(done=False, kind=EventKind.STEP, at__lte=now)
        .select_related("case")
        .order_by("at", "id")
    )
    for event in unfinished:
        attempt = _dunning_attempt_since(event.case, event.at)
        if attempt is None and event.case.status == CaseStatus.OPEN:
            _retry_and_finish(_Retry(event.case_id, event.pk), now=now, cache=cache, result=result)
        else:
            _finish_step(event_id=event.pk, attempt=attempt, now=now, cache=cache, result=result)
    return len(unfinished)


# --- the pass ------------------------------------------------------------------------------------


def dunning_pass_prepare(*, now: datetime, cache: PolicyCache, result: PassResult) -> list:
    """What a pass does before its chunks (cases payments' facts call for, unfinished steps of
    an interrupted pass); returns the ids of the cases due at `now`, in order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result.opened = cases_open_missing(now=now)
    cases_settle_missing(now=now)
    events_resume(now=now, cache=cache, result=result)
    return list(
        DunningCase.objects.filter(status=CaseStatus.OPEN, next_action_at__lte=now)
        .order_by("next_action_at", "id")
        .values_list("id", flat=True)
    )


def dunning_chunk_run(
    *,
    case_ids,
    now: datetime,
    cache: PolicyCache,
    hard: frozenset,
    result: PassResult,
    on_case_done: Callable[[object], None] | None = None,
) -> None:
    """One chunk: its transaction, then each retry charged and finished on its own."""
    try:
        retries, uncharged = _run_chunk(case_ids, now=now, cache=cache, hard=hard, result=result)
    except Exception as exc:
        log.exception("dunning: a chunk of %s cases failed", len(case_ids))
        result.failures += 1
        result.errors.append(repr(exc))
        return
    if on_case_done is not None:
        for case_id in uncharged:  # their (impossible) retry was finished in the chunk
            on_case_done(case_id)
    for item in retries:
        try:
            _retry_and_finish(item, now=now, cache=cache, result=result)
        except Exception as exc:  # left unfinished: the next pass resumes it
            log.exception("dunning: retry of case %s failed", item.case_id)
            result.failures += 1
            result.errors.append(repr(exc))
        if on_case_done is not None:
            on_case_done(item.case_id)


def dunning_run(
    *,
    now: datetime,
    chunk_size: int = CHUNK_SIZE,
    on_case_done: Callable[[object], None] | None = None,
) -> PassResult:
    """Every step due at `now` on every open case. Safe to run twice, or concurrently.

    `on_case_done(case_id)` is called after each case's retry is finished (progress; tests use
    it to stop a pass between two cases)."""
    result = PassResult(now=now)
    cache = PolicyCache()
    due_ids = dunning_pass_prepare(now=now, cache=cache, result=result)
    hard = hard_decline_codes()
    for offset in range(0, len(due_ids), chunk_size):
        dunning_chunk_run(
            case_ids=due_ids[offset : offset + chunk_size],
            now=now,
            cache=cache,
            hard=hard,
            result=result,
            on_case_done=on_case_done,
        )
    result.notices += notices_resend(now=now)
    return result


__all__ = [
    "CaseStage",
    "PassResult",
    "case_charge",
    "dunning_chunk_run",
    "dunning_pass_prepare",
    "dunning_run",
    "events_resume",
]
