"""Invoices made by the billing engine: first period, trial end, period boundaries, upgrades.

Each function runs inside the caller's transaction (the one holding the subscription's lock),
prices with the pure engine, and issues the invoice finalized and numbered. Zero-total charges
are not invoiced (nothing is owed; see README "Billing cycle").
"""

import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from django.db import transaction
from django.db.models import Prefetch

from billing_project.shared import metrics
from invoicing import usage_source
from invoicing.models import DocumentType, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from invoicing.services import journal
from invoicing.services.consolidation import consolidating_parent, section_attach
from invoicing.services.contract_pricing import NO_CONTRACT, ContractInputs, contract_inputs
from invoicing.services.finalization import finalize_in_place
from invoicing.services.numbering import number_block
from invoicing.services.taxation import tax_context
from invoicing.services.totals import apply_totals
from subscriptions.models import Plan, PlanMetric, Subscription, SubscriptionChange
from subscriptions.pricing import (
    CouponTerms,
    Period,
    PlanTerms,
    PricedLine,
    PricedPeriod,
    price_period,
    upgrade_proration_line,
)
from subscriptions.selectors import plan_terms
from subscriptions.services.subscriptions import (
    PeriodAdvance,
    TrialEnded,
    coupon_for_period,
    coupon_for_periods,
)


@dataclass
class GenerationTimes:
    """Invoice generation durations gathered during one billing run (BillingRun's figures)."""

    count: int = 0
    total: float = 0.0
    max: float = 0.0

    def add(self, seconds: float, count: int = 1) -> None:
        self.count += count
        self.total += seconds * count
        self.max = max(self.max, seconds)


# Set by the billing cycle for its run; unset elsewhere (the histogram is observed either way).
generation_times: ContextVar[GenerationTimes | None] = ContextVar("generation_times", default=None)


def _generated(seconds: float, *, path: str, count: int = 1) -> None:
    for _ in range(count):
        metrics.observe(metrics.INVOICE_GENERATION_SECONDS, seconds, path=path)
    sink = generation_times.get()
    if sink is not None:
        sink.add(seconds, count)


def _measured(path: str):
    """Time a generation function; an invoice it returns is one generation of `path`."""

    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            start = time.perf_counter()
            invoice = fn(*args, **kwargs)
            if invoice is not None:
                _generated(time.perf_counter() - start, path=path)
            return invoice

        return run

    return decorate


class TermsCache:
    """PlanTerms per plan id for one run (plans do not change mid-run)."""

    def __init__(self):
        self._terms: dict = {}

    def get(self, plan: Plan) -> PlanTerms:
        terms = self._terms.get(plan.pk)
        if terms is None:
            if "plan_metrics" not in getattr(plan, "_prefetched_objects_cache", {}):
                plan = Plan.objects.prefetch_related(_plan_metrics_prefetch()).get(pk=plan.pk)
            terms = self._terms[plan.pk] = plan_terms(plan)
        return terms


def _plan_metrics_prefetch():
    return Prefetch("plan_metrics", queryset=PlanMetric.objects.select_related("metric"))


def _row(invoice: Invoice, position: int, line: PricedLine) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        position=position,
        kind=line.kind,
        description=line.description[:500],
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=line.amount,
        period_start=line.period.start if line.period else None,
        period_end=line.period.end if line.period else None,
        explanation=line.explanation(),
    )


def invoice_build(
    *,
    subscription: Subscription,
    kind: str,
    period: Period,
    priced: PricedPeriod,
    now: datetime,
    change: SubscriptionChange | None = None,
    contract: ContractInputs = NO_CONTRACT,
) -> tuple[Invoice, list[InvoiceLine]] | None:
    """The unsaved draft and its line rows, totals applied (None when nothing is owed).
    Its currency is the priced terms' (the plan's), not the tenant's; a contract-priced
    invoice records the contract version it used and is due on the contract's terms."""
    lines = [line for line in priced.lines if line.amount != 0]
    if not lines or sum(line.amount for line in lines) <= 0:
        return None
    tenant = subscription.tenant
    invoice = Invoice(
        tenant=tenant,
        subscription=subscription,
        subscription_change=change,
        kind=kind,
        status=InvoiceStatus.DRAFT,
        currency=priced.currency,
        period_start=period.start,
        period_end=period.end,
        payment_terms=contract.payment_terms or tenant.payment_terms,
        contract_version=contract.version,
        created_by="billing",
        created_at=now,
        updated_at=now,
    )
    rows = [_row(invoice, position, line) for position, line in enumerate(lines)]
    apply_totals(invoice, rows)
    return invoice, rows


def invoice_issue(
    *,
    subscription: Subscription,
    kind: str,
    period: Period,
    priced: PricedPeriod,
    now: datetime,
    change: SubscriptionChange | None = None,
    deliver: bool = True,
    contract: ContractInputs = NO_CONTRACT,
) -> Invoice | None:
    """Create, finalize and number one invoice for `priced` (None when nothing is owed, or
    when the charge went on a consolidating parent's invoice of the day as a section)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoice_issue must run inside the subscription's transaction")
    built = invoice_build(
        subscription=subscription,
        kind=kind,
        period=period,
        priced=priced,
        now=now,
        change=change,
        contract=contract,
    )
    if built is None:
        return None
    invoice, rows = built
    parent = consolidating_parent(subscription.tenant)
    if parent is not None:
        # A consolidating parent's child: a section of the parent's invoice of the day.
        section_attach(built=invoice, rows=rows, parent=parent, now=now)
        return None
    finalize_in_place(invoice=invoice, now=now, deliver=deliver, lines=rows)
    invoice.save(force_insert=True)
    InvoiceLine.objects.bulk_create(rows)
    journal.post_finalized(invoice=invoice, rows=rows, now=now)
    return invoice


@_measured("first_period")
def invoice_first_period(
    *, subscription: Subscription, now: datetime, deliver: bool = True, cache=None
) -> Invoice | None:
    """A subscription without a trial pays its first period's fee at once, in advance (the
    contract's base price when a contract is in force at its start)."""
    cache = cache or TermsCache()
    period = Period(start=subscription.current_period_start, end=subscription.current_period_end)
    coupon = coupon_for_period(subscription=subscription, period_index=subscription.period_index)
    terms = cache.get(subscription.plan)
    contract = contract_inputs(
        tenant=subscription.tenant, fee_period=period, usage_period=None, currency=terms.currency
    )
    priced = price_period(
        plan=terms,
        fee_period=period,
        usage_period=None,
        usage={},
        coupon=coupon,
        coupon_period_index=0,
        **contract.pricing_kwargs(),
    )
    return invoice_issue(
        subscription=subscription,
        kind=InvoiceKind.SUBSCRIPTION,
        period=period,
        priced=priced,
        now=now,
        deliver=deliver,
        contract=contract,
    )


@_measured("trial_end")
def invoice_trial_end(
    *, ended: TrialEnded, now: datetime, deliver: bool = True, cache=None
) -> Invoice | None:
    """The fee (the plan's, or a contract's base price) for the rest of the period in which
    the trial ended, prorated by days."""
    if ended.remaining_days <= 0:
        return None
    cache = cache or TermsCache()
    coupon = coupon_for_period(subscription=ended.subscription, period_index=ended.period_index)
    terms = cache.get(ended.plan)
    fee_period = Period(start=max(ended.ended_at, ended.period.start), end=ended.period.end)
    contract = contract_inputs(
        tenant=ended.subscription.tenant,
        fee_period=fee_period,
        usage_period=None,
        currency=terms.currency,
    )
    priced = price_period(
        plan=terms,
        fee_period=fee_period,
        usage_period=None,
        usage={},
        coupon=coupon,
        coupon_period_index=0,
        remaining_days=ended.remaining_days,
        period_days=ended.period_days,
        **contract.pricing_kwargs(),
    )
    return invoice_issue(
        subscription=ended.subscription,
        kind=InvoiceKind.SUBSCRIPTION,
        period=ended.period,
        priced=priced,
        now=now,
        deliver=deliver,
        contract=contract,
    )


def _needs_usage(advance: PeriodAdvance) -> bool:
    trial_end = advance.subscription.trial_end
    return not (trial_end is not None and trial_end >= advance.ended_period.end)


def _needs_coupon(advance: PeriodAdvance) -> bool:
    return not advance.cancelled and not advance.trialing


def _ended_period_key(advance: PeriodAdvance) -> tuple:
    ended = advance.ended_period
    return (advance.subscription.tenant_id, ended.start, ended.end)


def _period_advance_charge(
    *,
    advance: PeriodAdvance,
    usage: dict | None,
    coupon: CouponTerms | None,
    cache: TermsCache,
    contract: ContractInputs = NO_CONTRACT,
) -> tuple[str, Period, PricedPeriod] | None:
    """What a period boundary invoices: (kind, period, priced), or None (still in trial)."""
    ended = advance.ended_period
    terms_at_end = cache.get(advance.plan_at_end)
    usage_period = ended if _needs_usage(advance) else None
    if advance.cancelled:
        priced = price_period(
            plan=terms_at_end,
            fee_period=None,
            usage_period=usage_period,
            usage=usage or {},
            **contract.pricing_kwargs(),
        )
        return InvoiceKind.FINAL, ended, priced
    if advance.trialing:
        return None  # the new period is still free; the ended one was too
    # An upgrade never changes the currency, so the ended plan's overages share the fee's.
    priced = price_period(
        plan=cache.get(advance.new_plan),
        fee_period=advance.new_period,
        usage_period=usage_period,
        usage=usage or {},
        coupon=coupon,
        coupon_period_index=0,
        usage_plan=terms_at_end,
        **contract.pricing_kwargs(),
    )
    return InvoiceKind.SUBSCRIPTION, advance.new_period, priced


def _advance_contract(*, advance: PeriodAdvance, cache: TermsCache) -> ContractInputs:
    fee_period = None if advance.cancelled or advance.trialing else advance.new_period
    return contract_inputs(
        tenant=advance.subscription.tenant,
        fee_period=fee_period,
        usage_period=advance.ended_period if _needs_usage(advance) else None,
        currency=cache.get(advance.plan_at_end).currency,
    )


@_measured("period")
def invoice_period_advance(
    *,
    advance: PeriodAdvance,
    now: datetime,
    deliver: bool = True,
    cache=None,
    usage: dict | None = None,
    coupon: CouponTerms | bool | None = False,
) -> Invoice | None:
    """At a period boundary: the new period's fee in advance (coupon applied) and the ended
    period's overages in arrears against the plan in effect at its end. When a cancellation took
    effect: a `final` invoice with the overages only. The ended period's usage is closed.

    `usage` and `coupon` may be passed in by a batching caller (False: look the coupon up)."""
    cache = cache or TermsCache()
    sub = advance.subscription
    tenant_id, start, end = _ended_period_key(advance)
    # Close before reading: closing takes the tenant's usage lock, so no late event can land in
    # the ended period between the read below and the invoice.
    usage_source.usage_period_close(
        tenant_id=tenant_id, period_start=start, period_end=end, now=now
    )
    if usage is None and _needs_usage(advance):
        usage = usage_source.usage_totals(tenant_id=tenant_id, start=start, end=end)
    if coupon is False:
        coupon = (
            coupon_for_period(subscription=sub, period_index=advance.new_period_index)
            if _needs_coupon(advance)
            else None
        )
    contract = _advance_contract(advance=advance, cache=cache)
    charge = _period_advance_charge(
        advance=advance, usage=usage, coupon=coupon or None, cache=cache, contract=contract
    )
    if charge is None:
        return None
    kind, period, priced = charge
    return invoice_issue(
        subscription=sub,
        kind=kind,
        period=period,
        priced=priced,
        now=now,
        deliver=deliver,
        contract=contract,
    )


def invoice_period_advance_many(
    *, advances: list[PeriodAdvance], now: datetime, deliver: bool = True, cache=None
) -> list[Invoice | None]:
    """`invoice_period_advance` for a chunk of advances whose subscriptions the caller's
    transaction holds locked (plain roll-overs of tenants without a contract, see
    `subscription_advance_periods_plain`), in a constant number of queries: close every ended
    period, then read all their usage in one query, the coupons in one, take one block of
    numbers, insert the invoices and their lines in bulk. Results in the order of `advances`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoice_period_advance_many must run inside the chunk's transaction")
    if not advances:
        return []
    start = time.perf_counter()
    cache = cache or TermsCache()
    usage_source.usage_periods_close(periods=[_ended_period_key(a) for a in advances], now=now)
    usage_needed = [i for i, a in enumerate(advances) if _needs_usage(a)]
    totals = usage_source.usage_totals_many(
        requests=[_ended_period_key(advances[i]) for i in usage_needed]
    )
    usage = dict(zip(usage_needed, totals, strict=True))
    coupon_needed = [i for i, a in enumerate(advances) if _needs_coupon(a)]
    terms = coupon_for_periods(
        requests=[
            (advances[i].subscription.pk, advances[i].new_period_index) for i in coupon_needed
        ]
    )
    coupons = dict(zip(coupon_needed, terms, strict=True))
    built: list[tuple[int, Invoice, list[InvoiceLine]]] = []
    for i, advance in enumerate(advances):
        charge = _period_advance_charge(
            advance=advance, usage=usage.get(i), coupon=coupons.get(i), cache=cache
        )
        if charge is None:
            continue
        kind, period, priced = charge
        made = invoice_build(
            subscription=advance.subscription, kind=kind, period=period, priced=priced, now=now
        )
        if made is not None:
            built.append((i, *made))
    results: list[Invoice | None] = [None] * len(advances)
    if not built:
        return results
    numbers = number_block(document_type=DocumentType.INVOICE, at=now, count=len(built))
    tax = tax_context()
    for (i, invoice, rows), number in zip(built, numbers, strict=True):
        finalize_in_place(
            invoice=invoice, now=now, deliver=deliver, number=number, lines=rows, tax=tax
        )
        results[i] = invoice
    Invoice.objects.bulk_create([invoice for _, invoice, _ in built])
    InvoiceLine.objects.bulk_create([row for _, _, rows in built for row in rows])
    journal.post_finalized_many(built=[(invoice, rows) for _, invoice, rows in built], now=now)
    # One chunk's time shared by its invoices (they are generated together).
    _generated((time.perf_counter() - start) / len(built), path="bulk_period", count=len(built))
    return results


@_measured("upgrade")
def invoice_upgrade(
    *, subscription: Subscription, change: SubscriptionChange, now: datetime, deliver: bool = True
) -> Invoice | None:
    """The immediate proration invoice of an upgrade (`new - old` for the days left)."""
    if change.proration_amount is None or change.proration_amount <= 0:
        return None
    period = Period(start=change.period_start, end=change.period_end)
    line = upgrade_proration_line(
        from_plan=change.from_plan.name,
        to_plan=change.to_plan.name,
        amount=change.proration_amount,
        remaining=change.proration_numerator,
        total=change.proration_denominator,
        period=Period(start=max(change.effective_at, period.start), end=period.end),
    )
    return invoice_issue(
        subscription=subscription,
        kind=InvoiceKind.PRORATION,
        period=period,
        priced=PricedPeriod(lines=(line,), currency=change.to_plan.currency),
        now=now,
        change=change,
        deliver=deliver,
    )
