"""The admin home (UNFOLD["DASHBOARD_CALLBACK"]): the figures finance starts the day with, each
linking to the rows behind it (admin changelists with their filters, the MRR page of
console/admin_mrr.py, the monitoring page).

MRR is `analytics.selectors.mrr.mrr_report` for this month to date, as `GET analytics/mrr?
start_date=<the 1st>&end_date=<today>` answers (same currency choice: usd, else the only one),
with its 12-month trend (`mrr_trend`); the four monitoring figures are
`analytics.selectors.monitoring.monitoring_figures` (last 24 h).
"""

from datetime import timedelta

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.http import urlencode

from analytics.selectors.monitoring import monitoring_figures
from analytics.selectors.mrr import mrr_report, mrr_trend
from billing_project.shared.admin import money_display
from billing_project.shared.clock import utcnow
from dunning.selectors import recovery_figures
from invoicing.ar_reports import ar_aging
from invoicing.models import BillingRun, BillingRunFailure, Invoice
from payments.models import PaymentAttempt

AGING = (
    ("current", "Current"),
    ("days_1_30", "1-30"),
    ("days_31_60", "31-60"),
    ("days_61_90", "61-90"),
    ("days_over_90", "90+"),
)


def _url(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _per_currency(rows, amount_key: str, count_key: str = "n") -> list[dict]:
    return [
        {
            "currency": r["currency"].upper(),
            "count": r[count_key],
            "amount": money_display(r[amount_key] or 0, r["currency"]),
        }
        for r in rows
    ]


MOVEMENTS = (
    ("new", "new_mrr", "New"),
    ("expansion", "expansion_mrr", "Expansion"),
    ("contraction", "contraction_mrr", "Contraction"),
    ("churn", "churn_mrr", "Churn"),
    ("reactivation", "reactivation_mrr", "Reactivation"),
)
TREND_MONTHS = 12
SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
# Where each monitoring figure's rows are: (admin changelist, its date field).
MONITORING_ROWS = {
    "webhook_success_rate": ("admin:payments_webhookevent_changelist", "received_at__gte"),
    "payment_success_rate": ("admin:payments_paymentattempt_changelist", "created_at__gte"),
    "invoice_generation_time": ("admin:invoicing_billingrun_changelist", "started_at__gte"),
    "usage_accuracy": ("admin:usage_usageevent_changelist", "timestamp__gte"),
}


def _months(now, count: int) -> list[str]:
    year, month, labels = now.year, now.month, []
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return labels[::-1]


def _mrr(now) -> dict:
    body = mrr_report(start_date=now.date().replace(day=1), end_date=now.date(), now=now)
    metrics, currency = body["metrics"], body["currency"]
    page = reverse("admin:subscriptions_subscription_mrr")
    this_month = now.strftime("%Y-%m")
    by_month = {r["month"]: r for r in mrr_trend(months=TREND_MONTHS, now=now)
                if r["currency"] == currency}  # fmt: skip
    peak = max((r["mrr"] for r in by_month.values()), default=0) or 1
    trend = []
    for label in _months(now, TREND_MONTHS):
        mrr = by_month.get(label, {}).get("mrr", 0)
        trend.append(
            {
                "month": label,
                "mrr": mrr,
                "display": money_display(mrr, currency),
                "subscribers": by_month.get(label, {}).get("subscribers", 0),
                "height": max(round(100 * mrr / peak), 1 if mrr else 0),
                "url": f"{page}?{urlencode({'month': label})}",
            }
        )
    return {
        "currency": currency.upper(),
        "total": metrics["total_mrr"],
        "total_display": money_display(metrics["total_mrr"], currency),
        "url": f"{page}?{urlencode({'month': this_month})}",
        "net_new_display": money_display(metrics["net_new_mrr"], currency),
        "movements": [
            {
                "label": label,
                "display": money_display(metrics[key], currency),
                "url": f"{page}?{urlencode({'month': this_month, 'movement': kind})}",
            }
            for kind, key, label in MOVEMENTS
        ],
        "trend": trend,
    }


def _monitoring(now) -> list[dict]:
    since = now - timedelta(hours=24)
    figures = []
    for figure in monitoring_figures(now=now):
        changelist, field = MONITORING_ROWS[figure["key"]]
        value = figure["value"]
        figures.append(
            {
                **figure,
                "display": "no data" if value is None else f"{value} {figure['unit']}",
                "target_display": f"{SYMBOLS[figure['comparison']]} {figure['target']} "
                f"{figure['unit']}",
                "url": _url(changelist, **{field: since.isoformat()}),
            }
        )
    return figures


def dashboard_callback(request, context):
    now = utcnow()
    invoices = reverse("admin:invoicing_invoice_changelist")
    open_rows = (
        Invoice.objects.filter(status="open")
        .values("currency")
        .annotate(n=Count("id"), due=Sum("amount_due"))
        .order_by("currency")
    )
    overdue_rows = (
        Invoice.objects.filter(status="open", due_at__lt=now)
        .values("currency")
        .annotate(n=Count("id"), due=Sum("amount_due"))
        .order_by("currency")
    )
    since = now - timedelta(hours=24)
    failed_rows = (
        PaymentAttempt.objects.filter(status="failed", created_at__gte=since)
        .values("currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("currency")
    )
    recovery = recovery_figures(now=now)
    at_risk = [
        {
            "currency": r["invoice__currency"].upper(),
            "count": r["cases"],
            "amount": money_display(r["amount"] or 0, r["invoice__currency"]),
        }
        for r in recovery["at_risk"]
    ]
    aging = [
        {
            "currency": report["currency"].upper(),
            "buckets": [
                (label, money_display(report["totals"][key], report["currency"]))
                for key, label in AGING
            ],
            "total": money_display(report["totals"]["total"], report["currency"]),
        }
        for report in ar_aging(as_of=now.date())
    ]
    failures = BillingRunFailure.objects.filter(resolved=False)
    last_failure = BillingRunFailure.objects.order_by("-at").first()
    last_run = BillingRun.objects.order_by("-started_at").first()
    context.update(
        {
            "title": "Dashboard",  # the header's, instead of Django's "Site administration"
            "console": {
                "now": now,
                "open_receivables": _per_currency(open_rows, "due"),
                "open_url": f"{invoices}?status__exact=open",
                "overdue": _per_currency(overdue_rows, "due"),
                "overdue_url": f"{invoices}?overdue=yes",
                "failed_payments": _per_currency(failed_rows, "total"),
                "failed_url": _url(
                    "admin:payments_paymentattempt_changelist",
                    status__exact="failed",
                    created_at__gte=since.isoformat(),
                ),
                "dunning_open": recovery["open_cases"],
                "dunning_paused": recovery["paused_cases"],
                "at_risk": at_risk,
                "dunning_url": reverse("admin:dunning_dunningcase_recovery"),
                "dunning_open_url": _url(
                    "admin:dunning_dunningcase_changelist", status__exact="open"
                ),
                "aging": aging,
                "aging_url": _url("admin:invoicing_finance_reports", report="ar_aging"),
                "run_failures": failures.count(),
                "last_failure": last_failure,
                "last_run": last_run,
                "last_run_url": (
                    reverse("admin:invoicing_billingrun_change", args=[last_run.pk])
                    if last_run
                    else reverse("admin:invoicing_billingrun_changelist")
                ),
                "run_failures_url": _url(
                    "admin:invoicing_billingrunfailure_changelist", resolved__exact="0"
                ),
                "mrr": _mrr(now),
                "monitoring": _monitoring(now),
            },
        }
    )
    # The dj-stripe mirror is folded away in the sidebar; the home page does not list it.
    context["app_list"] = [a for a in context.get("app_list", []) if a["app_label"] != "djstripe"]
    return context
