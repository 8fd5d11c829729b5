"""The billing cycle: what beat runs hourly and `manage.py run_billing_cycle --now` runs as of
a moment. Order: dunning steps (hook), the outbox sweep (tasks a broker outage left unsent),
collection retries (sent to payments by task name), trial ends, period boundaries.

Each subscription acts on its own stored state (no global watermark): a period is advanced only
when `now >= current_period_end`, under the subscription's row lock, so a second run or a
concurrent run finds nothing left to do, and the unique constraints on period invoices are the
backstop. Each step for one subscription is its own transaction (a savepoint); a failure is
recorded as a BillingRunFailure and the run goes on.

Period boundaries are billed in chunks of `CHUNK_SIZE` subscriptions (by id), one transaction
(one commit) per chunk: the chunk's rows are locked with SKIP LOCKED, so two concurrent cycles
never wait for each other nor bill the same row; the plain roll-overs (one boundary, no
cancellation, downgrade or trial) are billed in bulk in a constant number of queries (usage
closed, then read, for the whole chunk; one block of invoice numbers); the other cases, or the
whole chunk if the bulk step fails, one subscription at a time in its own savepoint. Rows that
were skipped are retried at the end of the run, waiting for their lock.
"""

import logging
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

from billing_project.shared.clock import utcnow
from billing_project.shared.dispatch import dispatch_after_commit, dispatch_task, outbox_sweep
from invoicing.models import BillingRun, BillingRunFailure
from invoicing.services.consolidation import consolidated_due_finalize
from invoicing.services.generation import (
    GenerationTimes,
    TermsCache,
    generation_times,
    invoice_period_advance,
    invoice_period_advance_many,
    invoice_trial_end,
)
from subscriptions.models import Subscription
from subscriptions.models.subscriptions import SubscriptionStatus
from subscriptions.services.subscriptions import (
    subscription_advance_period,
    subscription_advance_periods_plain,
    subscription_end_trial,
    subscriptions_lock_due,
)

log = logging.getLogger(__name__)

MAX_CATCH_UP_PERIODS = 120
CHUNK_SIZE = 100  # due subscriptions per transaction


@dataclass
class CycleResult:
    now: datetime
    invoices: int = 0
    trial_ends: int = 0
    periods: int = 0
    cancellations: int = 0
    failures: int = 0
    invoice_ids: list = field(default_factory=list)
    run_id: int | None = None

    def summary_line(self) -> str:
        stamp = self.now.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return (
            f"billing cycle as of {stamp}: {self.invoices} invoices, "
            f"{self.trial_ends} trial end{'s' if self.trial_ends != 1 else ''}, "
            f"{self.periods} period{'s' if self.periods != 1 else ''} advanced, "
            f"{self.cancellations} cancellation{'s' if self.cancellations != 1 else ''}, "
            f"{self.failures} failure{'s' if self.failures != 1 else ''}"
        )


def dunning_steps_run(*, now: datetime) -> int:
    """Dunning's due steps belong to the dunning app (above us): sent by task name (in-process
    and finished before the rest of the cycle when tasks are eager)."""
    try:
        dispatch_task("dunning.run_steps", now=now.isoformat())
    except Exception:  # the broker is down: beat's own schedule runs them anyway
        log.exception("billing cycle: could not dispatch dunning.run_steps")
    return 0


def collection_retries_run(*, now: datetime) -> int:
    """Payment collection retries belong to the payments app (above us): sent by task name."""
    try:
        dispatch_task("payments.retry_pending", now=now.isoformat())
    except Exception:  # the broker is down: beat's own schedule retries them anyway
        log.exception("billing cycle: could not dispatch payments.retry_pending")
    return 0


def _record_failure(*, subscription_id, step: str, now: datetime, exc: Exception) -> None:
    log.exception("billing cycle: %s failed for subscription %s", step, subscription_id)
    try:
        BillingRunFailure.objects.create(
            subscription_id=subscription_id,
            step=step,
            run_as_of=now,
            error="".join(traceback.format_exception(exc))[-8000:],
            at=datetime.now(UTC),
        )
    except Exception:  # the failure itself could not be stored: logged above
        log.exception("billing cycle: could not record the failure")


def _end_trial(sub_id, *, now, result: CycleResult, cache, deliver) -> None:
    ended = subscription_end_trial(subscription=Subscription(pk=sub_id), now=now)
    if ended is None:
        return
    invoice = invoice_trial_end(ended=ended, now=now, deliver=deliver, cache=cache)
    result.trial_ends += 1
    if invoice is not None:
        result.invoices += 1
        result.invoice_ids.append(invoice.pk)


def _bill_due(sub_id, *, now, result: CycleResult, cache, deliver) -> None:
    subscription = Subscription(pk=sub_id)
    for _ in range(MAX_CATCH_UP_PERIODS):
        advance = subscription_advance_period(subscription=subscription, now=now)
        if advance is None:
            return
        invoice = invoice_period_advance(advance=advance, now=now, deliver=deliver, cache=cache)
        result.periods += 1
        result.cancellations += int(advance.cancelled)
        if invoice is not None:
            result.invoices += 1
            result.invoice_ids.append(invoice.pk)
        subscription = advance.subscription
        if advance.cancelled:
            return
        # A trial that ends inside a caught-up period is settled in its place.
        if (
            subscription.status == SubscriptionStatus.TRIALING
            and subscription.trial_end is not None
            and subscription.trial_end <= now
        ):
            _end_trial(sub_id, now=now, result=result, cache=cache, deliver=deliver)
        if subscription.current_period_end > now:
            return


def subscription_bill_due(
    *, subscription_id, now: datetime, result: CycleResult, cache=None, deliver: bool = True
) -> None:
    """Every period boundary of one subscription up to `now`, oldest first (catch-up), in one
    transaction; a failure rolls this subscription back, is recorded, and the run goes on."""
    exc = _bill_due_isolated(
        subscription_id, now=now, result=result, cache=cache or TermsCache(), deliver=deliver
    )
    if exc is not None:
        _record_failure(subscription_id=subscription_id, step="period", now=now, exc=exc)


def _bill_due_isolated(sub_id, *, now, result: CycleResult, cache, deliver) -> Exception | None:
    """`_bill_due` in its own transaction (a savepoint inside a chunk's); on failure the counts
    are put back and the error returned, for the caller to record."""
    snapshot = _snapshot(result)
    try:
        with transaction.atomic():
            _bill_due(sub_id, now=now, result=result, cache=cache, deliver=deliver)
    except Exception as exc:
        _restore(result, snapshot)
        result.failures += 1
        return exc
    return None


def _snapshot(result: CycleResult) -> tuple:
    return (result.invoices, result.trial_ends, result.periods, result.cancellations,
            result.failures, len(result.invoice_ids))  # fmt: skip


def _restore(result: CycleResult, snapshot: tuple) -> None:
    (result.invoices, result.trial_ends, result.periods, result.cancellations,
     result.failures) = snapshot[:5]  # fmt: skip
    del result.invoice_ids[snapshot[5] :]


def _bill_chunk_plain(sub_ids, *, now, result: CycleResult, cache, deliver) -> list:
    """The plain roll-overs of a locked chunk in bulk (in a savepoint); returns the ids left for
    the one-by-one path (the other cases, or every id if the bulk step failed)."""
    snapshot = _snapshot(result)
    try:
        with transaction.atomic():
            advances, rest = subscription_advance_periods_plain(subscription_ids=sub_ids, now=now)
            invoices = invoice_period_advance_many(
                advances=advances, now=now, deliver=deliver, cache=cache
            )
    except Exception:
        # One bad subscription must not fail its chunk: redo each alone, failures recorded.
        log.warning("billing cycle: bulk step failed, chunk billed one by one", exc_info=True)
        _restore(result, snapshot)
        return list(sub_ids)
    result.periods += len(advances)
    for invoice in invoices:
        if invoice is not None:
            result.invoices += 1
            result.invoice_ids.append(invoice.pk)
    return rest


def _bill_chunk(sub_ids, *, now, result: CycleResult, cache, deliver) -> list:
    """One transaction for a chunk of due subscriptions: lock those nobody else holds (skip the
    rest), bill the plain roll-overs in bulk and the others one by one, each in a savepoint.
    Failures are recorded after the commit. Returns the ids skipped because they were locked."""
    failures: list[tuple] = []
    snapshot = _snapshot(result)
    try:
        with transaction.atomic():
            locked = subscriptions_lock_due(subscription_ids=sub_ids, now=now)
            rest = _bill_chunk_plain(locked, now=now, result=result, cache=cache, deliver=deliver)
            for sub_id in rest:
                exc = _bill_due_isolated(
                    sub_id, now=now, result=result, cache=cache, deliver=deliver
                )
                if exc is not None:
                    failures.append((sub_id, exc))
    except Exception:
        # The chunk itself failed (lock, commit): every id goes through its own transaction.
        log.warning("billing cycle: chunk failed, billed one by one", exc_info=True)
        _restore(result, snapshot)
        for sub_id in sub_ids:
            subscription_bill_due(
                subscription_id=sub_id, now=now, result=result, cache=cache, deliver=deliver
            )
        return []
    for sub_id, exc in failures:
        _record_failure(subscription_id=sub_id, step="period", now=now, exc=exc)
    locked_ids = set(locked)
    return [sub_id for sub_id in sub_ids if sub_id not in locked_ids]


def _run_start(*, now: datetime) -> BillingRun | None:
    try:
        return BillingRun.objects.create(started_at=datetime.now(UTC), as_of=now)
    except Exception:  # the record is for monitoring: the run goes on without it
        log.exception("billing cycle: could not record the run")
        return None


def _run_finish(run, *, result: CycleResult, times: GenerationTimes, error: str = "") -> None:
    if run is None:
        return
    try:
        BillingRun.objects.filter(pk=run.pk).update(
            finished_at=datetime.now(UTC),
            invoices=result.invoices,
            periods=result.periods,
            trial_ends=result.trial_ends,
            cancellations=result.cancellations,
            failures=result.failures,
            generated=times.count,
            generation_ms_total=round(times.total * 1000),
            generation_ms_max=round(times.max * 1000),
            error=error[-8000:],
        )
    except Exception:
        log.exception("billing cycle: could not record the run's end")


def billing_cycle_run(*, now: datetime, deliver: bool = True) -> CycleResult:
    """The cycle as of `now`, recorded as a BillingRun (counts and invoice generation times)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _recorded(now=now, work=lambda result: _cycle(now=now, deliver=deliver, result=result))


def _recorded(*, now: datetime, work) -> CycleResult:
    result = CycleResult(now=now)
    run = _run_start(now=now)
    result.run_id = run.pk if run is not None else None
    times = GenerationTimes()
    token = generation_times.set(times)
    try:
        work(result)
    except Exception as exc:
        _run_finish(run, result=result, times=times, error="".join(traceback.format_exception(exc)))
        raise
    finally:
        generation_times.reset(token)
    _run_finish(run, result=result, times=times)
    return result


def trial_ends_run(*, now: datetime, result: CycleResult, cache, deliver: bool) -> None:
    """Every trial that has ended by `now`, each in its own transaction."""
    trial_ids = list(
        Subscription.objects.filter(status=SubscriptionStatus.TRIALING, trial_end__lte=now)
        .order_by("trial_end", "id")
        .values_list("id", flat=True)
    )
    for sub_id in trial_ids:
        try:
            with transaction.atomic():
                _end_trial(sub_id, now=now, result=result, cache=cache, deliver=deliver)
        except Exception as exc:
            result.failures += 1
            _record_failure(subscription_id=sub_id, step="trial_end", now=now, exc=exc)


def due_subscription_ids(*, now: datetime) -> list:
    return list(
        Subscription.objects.live()
        .filter(current_period_end__lte=now)
        .order_by("id")
        .values_list("id", flat=True)
    )


def consolidated_finalize_run(*, now: datetime, result: CycleResult, deliver: bool) -> None:
    """Consolidated invoices whose billing day's children are all billed (one query when none)."""
    try:
        for invoice in consolidated_due_finalize(now=now, deliver=deliver):
            result.invoices += 1
            result.invoice_ids.append(invoice.pk)
    except Exception as exc:  # left as drafts: the next run finalizes them
        result.failures += 1
        _record_failure(subscription_id=None, step="consolidation", now=now, exc=exc)


def _cycle(*, now: datetime, deliver: bool, result: CycleResult) -> None:
    dunning_steps_run(now=now)
    outbox_sweep(now=utcnow())  # emails, collections a broker outage left (wall-clock due)
    collection_retries_run(now=now)
    cache = TermsCache()
    trial_ends_run(now=now, result=result, cache=cache, deliver=deliver)
    due_ids = due_subscription_ids(now=now)
    skipped = []
    for offset in range(0, len(due_ids), CHUNK_SIZE):
        chunk = due_ids[offset : offset + CHUNK_SIZE]
        skipped.extend(_bill_chunk(chunk, now=now, result=result, cache=cache, deliver=deliver))
    # Rows another transaction held (another cycle, a plan change): wait for it now, one by
    # one; each re-checks its period, so what the other cycle billed is not billed again.
    for sub_id in skipped:
        subscription_bill_due(
            subscription_id=sub_id, now=now, result=result, cache=cache, deliver=deliver
        )
    consolidated_finalize_run(now=now, result=result, deliver=deliver)


# --- fanned out over workers -----------------------------------------------------------------


def billing_cycle_dispatch(
    *, now: datetime, chunk_size: int = CHUNK_SIZE, deliver: bool = True
) -> int:
    """The cycle for many workers: the steps before the period boundaries here, then one
    `invoicing.bill_chunk` task per `chunk_size` due subscriptions, recorded in the outbox in one
    transaction and sent after its commit (a broker outage delays them, the outbox sweep sends
    them later). Any worker on any machine takes a chunk; SKIP LOCKED keeps two chunks that
    overlap (a rerun, a redelivered task) from billing one row twice. Returns the chunks sent."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result = CycleResult(now=now)
    dunning_steps_run(now=now)
    outbox_sweep(now=utcnow())
    collection_retries_run(now=now)
    trial_ends_run(now=now, result=result, cache=TermsCache(), deliver=deliver)
    due_ids = due_subscription_ids(now=now)
    chunks = [
        due_ids[offset : offset + chunk_size] for offset in range(0, len(due_ids), chunk_size)
    ]
    with transaction.atomic():
        for chunk in chunks:
            dispatch_after_commit(
                "invoicing.bill_chunk",
                subscription_ids=[str(sub_id) for sub_id in chunk],
                now=now.isoformat(),
                deliver=deliver,
            )
    if not chunks:
        consolidated_finalize_run(now=now, result=result, deliver=deliver)
    return len(chunks)


def billing_chunk_run(*, subscription_ids, now: datetime, deliver: bool = True) -> CycleResult:
    """One chunk of `billing_cycle_dispatch`: the same transaction per chunk as the inline cycle,
    rows someone else holds waited for one by one, then the consolidated invoices now due;
    recorded as a BillingRun of its own."""
    return _recorded(
        now=now, work=lambda result: _chunk(list(subscription_ids), now, deliver, result)
    )


def _chunk(sub_ids, now: datetime, deliver: bool, result: CycleResult) -> None:
    cache = TermsCache()
    skipped = _bill_chunk(sub_ids, now=now, result=result, cache=cache, deliver=deliver)
    for sub_id in skipped:
        subscription_bill_due(
            subscription_id=sub_id, now=now, result=result, cache=cache, deliver=deliver
        )
    consolidated_finalize_run(now=now, result=result, deliver=deliver)
