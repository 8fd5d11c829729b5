"""Reads behind payment health, CAC, plan costs and the executive dashboard.

Every figure is computed from the rows as of the call (`now`): no snapshot or job has to have
run first. Money is integer minor units per currency; nothing is summed across currencies.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce

from analytics.calculations import acquisition as unit
from analytics.calculations.health import FAILED_WINDOW_DAYS, payment_health
from analytics.models import AcquisitionSpend, PlanCost
from analytics.selectors import mrr as mrr_selectors
from analytics.selectors import usage_report
from analytics.serializers_insights import forecast_data, health_data, health_summary
from dunning.models import CaseStatus, DunningCase
from invoicing.ar_reports import ar_aging
from invoicing.models import Invoice, InvoiceStatus
from invoicing.revenue_report import revenue_report
from payments.models import PaymentAttempt, PaymentAttemptStatus
from subscriptions.models import Plan, Subscription, Tenant
from usage.serializers import iso_z

# --- payment health ----------------------------------------------------------------------------


def payment_health_report(*, now: datetime, tenant_id=None) -> list[dict]:
    """Per tenant with a subscription or an invoice, worst first: its score and the parts it
    is made of (failed attempts in the last 90 days, days past due of its oldest open invoice,
    open dunning cases), with the open amount due per currency."""
    tenants = Tenant.objects.filter(
        Q(subscriptions__isnull=False) | Q(invoices__isnull=False)
    ).distinct()
    if tenant_id is not None:
        tenants = tenants.filter(pk=tenant_id)
    tenants = list(tenants.only("id", "name", "status"))
    ids = [t.pk for t in tenants]
    failed = dict(
        PaymentAttempt.objects.filter(
            tenant_id__in=ids,
            status=PaymentAttemptStatus.FAILED,
            created_at__gt=now - timedelta(days=FAILED_WINDOW_DAYS),
            created_at__lte=now,
        )
        .values_list("tenant_id")
        .annotate(n=Count("id"))
    )
    dunning = dict(
        DunningCase.objects.filter(
            tenant_id__in=ids, status__in=(CaseStatus.OPEN, CaseStatus.PAUSED), opened_at__lte=now
        )
        .values_list("tenant_id")
        .annotate(n=Count("id"))
    )
    oldest_due: dict = {}
    open_due: dict = defaultdict(dict)
    open_invoices = Invoice.objects.filter(
        tenant_id__in=ids, status=InvoiceStatus.OPEN, amount_due__gt=0, issued_at__lte=now
    )
    for row in (
        open_invoices.values("tenant_id")
        .annotate(due=Min(Coalesce("due_at", "issued_at")))
        .order_by()
    ):
        oldest_due[row["tenant_id"]] = row["due"]
    for tenant_key, currency, amount in open_invoices.values_list(
        "tenant_id", "currency", "amount_due"
    ):
        open_due[tenant_key][currency] = open_due[tenant_key].get(currency, 0) + amount
    rows = []
    for tenant in tenants:
        due = oldest_due.get(tenant.pk)
        late = max((now.date() - due.date()).days, 0) if due else 0
        rows.append(
            {
                "tenant": tenant,
                "health": payment_health(
                    failed_attempts=failed.get(tenant.pk, 0),
                    days_past_due=late,
                    open_dunning_cases=dunning.get(tenant.pk, 0),
                ),
                "oldest_due_at": due,
                "amount_due": dict(sorted(open_due.get(tenant.pk, {}).items())),
            }
        )
    rows.sort(key=lambda r: (r["health"].score, r["tenant"].name, str(r["tenant"].pk)))
    return rows


# --- acquisition: new customers, spend, CAC ----------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_back(*, until: date, months: int) -> list[date]:
    """The first days of the `months` months ending with `until`'s, oldest first."""
    first = month_start(until)
    result = []
    for _ in range(months):
        result.append(first)
        first = month_start(first - timedelta(days=1))
    return result[::-1]


def _next_month(first: date) -> date:
    return month_start(first + timedelta(days=32))


def new_customers(*, now: datetime) -> dict[tuple[date, str], int]:
    """{(month, currency): tenants acquired that month}. A tenant is acquired once, when its
    first subscription became paying: at its start, or at its trial's end when it had one
    (a trial cancelled before it ended, or still running at `now`, acquired nobody). Months
    in UTC; the currency is the first plan's."""
    firsts = (
        Subscription.objects.filter(started_at__lte=now)
        .order_by("tenant_id", "started_at", "created_at")
        .distinct("tenant_id")
        .values_list("started_at", "trial_end", "cancelled_at", "plan__currency")
    )
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for started_at, trial_end, cancelled_at, currency in firsts:
        acquired = started_at
        if trial_end is not None and trial_end > started_at:
            if trial_end > now or (cancelled_at is not None and cancelled_at <= trial_end):
                continue
            acquired = trial_end
        counts[(month_start(acquired.date()), currency)] += 1
    return dict(counts)


def acquisition_spend_list() -> list[AcquisitionSpend]:
    return list(AcquisitionSpend.objects.order_by("-month", "currency"))


def cac_report(*, now: datetime, months: int = 12) -> dict:
    """Per currency: each of the last `months` months (this one included) with its spend, new
    customers and CAC (spend / new customers), and over the whole window the same figures."""
    window = months_back(until=now.date(), months=months)
    acquired = new_customers(now=now)
    spend = {
        (row.month, row.currency): row.amount
        for row in AcquisitionSpend.objects.filter(month__gte=window[0], month__lte=window[-1])
    }
    currencies = sorted({c for (m, c) in spend} | {c for (m, c) in acquired if m >= window[0]})
    result = {}
    for currency in currencies:
        rows = []
        for first in window:
            amount = spend.get((first, currency))
            new = acquired.get((first, currency), 0)
            rows.append(
                {
                    "month": first.strftime("%Y-%m"),
                    "spend": amount,
                    "new_customers": new,
                    "cac": None if amount is None else unit.cac(spend=amount, new_customers=new),
                }
            )
        total_spend = sum(r["spend"] or 0 for r in rows)
        # Months without spend entered say nothing of what they cost: the window's CAC counts
        # the customers of the months whose spend is known.
        counted = sum(r["new_customers"] for r in rows if r["spend"] is not None)
        result[currency] = {
            "months": rows,
            "spend": total_spend,
            "new_customers": sum(r["new_customers"] for r in rows),
            "new_customers_with_spend": counted,
            "cac": unit.cac(spend=total_spend, new_customers=counted),
        }
    return result


def spend_rows_with_cac(*, now: datetime) -> list[dict]:
    """Every spend row with its month's new customers and CAC."""
    acquired = new_customers(now=now)
    return [
        {
            "spend": row,
            "new_customers": acquired.get((row.month, row.currency), 0),
            "cac": unit.cac(
                spend=row.amount, new_customers=acquired.get((row.month, row.currency), 0)
            ),
        }
        for row in acquisition_spend_list()
    ]


def plan_cost_list() -> list[PlanCost]:
    return list(PlanCost.objects.select_related("plan"))


def profitability_by_plan(*, by_plan: dict[str, dict]) -> list[dict]:
    """Per plan with MRR or a cost entered: its MRR and subscribers (`by_plan`: {slug: {mrr,
    subscribers}}), the cost (subscribers x cost per subscriber-month) and the gross margin;
    cost and margin are null where no cost is entered."""
    costs = {c.plan.slug: c for c in plan_cost_list()}
    plans = {p.slug: p for p in Plan.objects.filter(slug__in=set(by_plan) | set(costs))}
    rows = []
    for slug in sorted(plans, key=lambda s: (plans[s].currency, plans[s].amount, s)):
        plan = plans[slug]
        figures = by_plan.get(slug, {})
        revenue = int(figures.get("mrr", 0) or 0)
        subscribers = int(figures.get("subscribers", 0) or 0)
        cost = costs.get(slug)
        row = {
            "plan": slug,
            "currency": plan.currency,
            "mrr": revenue,
            "subscribers": subscribers,
            "cost_per_subscriber": cost.amount if cost else None,
            "cost": None,
            "gross_margin": None,
            "gross_margin_pct": None,
        }
        if cost is not None and cost.currency == plan.currency:
            row["cost"] = subscribers * cost.amount
            row["gross_margin"], row["gross_margin_pct"] = unit.gross_margin(
                revenue=revenue, cost=row["cost"]
            )
        rows.append(row)
    return rows


# --- the executive dashboard -------------------------------------------------------------------

DASHBOARD_ROWS = 50  # per-tenant lists on the dashboard: the first 50 (the full lists have
# their own endpoints: analytics/payment-health, analytics/usage/forecast)


def _by_plan(report: dict) -> dict:
    """{slug: {mrr, subscribers}} of every currency from `mrr_report`'s `by_currency` (a plan
    has one currency, so slugs do not collide)."""
    merged: dict = {}
    for body in report.get("by_currency", {}).values():
        merged.update(body.get("by_plan", {}))
    merged.update({k: v for k, v in report.get("by_plan", {}).items() if k not in merged})
    return merged


def executive_dashboard(*, now: datetime) -> dict:
    """Every figure of the executive dashboard as of `now`, per currency, in minor units (see
    the README's Analytics section for each definition)."""
    today = now.date()
    current = mrr_selectors.mrr_at(moment=now)
    trend = mrr_selectors.mrr_trend(months=12, now=now)
    arpu = mrr_selectors.arpu(moment=now)
    ltv = mrr_selectors.ltv(now=now)
    by_plan = _by_plan(mrr_selectors.mrr_report(start_date=today, end_date=today, now=now))
    cac = cac_report(now=now, months=12)
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    recognized = {
        "this_month": revenue_report(month=this_month, today=today),
        "last_month": revenue_report(month=last_month, today=today),
    }
    aging = ar_aging(as_of=today)
    forecast = usage_report.usage_forecast(now=now)
    health = payment_health_report(now=now)

    trend_by_currency: dict[str, list] = defaultdict(list)
    for point in trend:
        trend_by_currency[point["currency"]].append(
            {k: v for k, v in point.items() if k != "currency"}
        )
    recognized_by = {
        key: {r["currency"]: r["recognized"] for r in reports}
        for key, reports in recognized.items()
    }
    receivable = {r["currency"]: r["totals"]["total"] for r in aging}
    currencies = sorted(
        set(current)
        | set(trend_by_currency)
        | set(cac)
        | set(receivable)
        | set(recognized_by["this_month"])
        | set(forecast["summary"])
    )
    by_currency = {}
    for currency in currencies:
        ltv_value = ltv.get(currency)
        cac_value = cac.get(currency, {}).get("cac")
        by_currency[currency] = {
            "mrr": current.get(currency, 0),
            "arr": 12 * current.get(currency, 0),
            "arpu": arpu.get(currency),
            "ltv": ltv_value,
            "cac": cac_value,
            "ltv_to_cac": unit.ratio(numerator=ltv_value, denominator=cac_value),
            "recognized_revenue_this_month": recognized_by["this_month"].get(currency, 0),
            "recognized_revenue_last_month": recognized_by["last_month"].get(currency, 0),
            "open_receivables": receivable.get(currency, 0),
            "forecast_overage_cost": forecast["summary"]
            .get(currency, {})
            .get("forecast_overage_cost", 0),
        }
    forecast_body = forecast_data(forecast)
    return {
        "as_of": iso_z(now),
        "currencies": currencies,
        "by_currency": by_currency,
        "mrr_trend": dict(sorted(trend_by_currency.items())),
        "cac": cac,
        "profitability_by_plan": profitability_by_plan(by_plan=by_plan),
        "usage_forecast": {
            "summary": forecast_body["summary"],
            "tenants": forecast_body["tenants"][:DASHBOARD_ROWS],
            "tenant_count": len(forecast_body["tenants"]),
        },
        "payment_health": {
            "summary": health_summary(health),
            "tenants": [health_data(row) for row in health[:DASHBOARD_ROWS]],
        },
        "ar_aging": [{**report, "tenants": report["tenants"][:DASHBOARD_ROWS]} for report in aging],
        "recognized_revenue": recognized,
    }
