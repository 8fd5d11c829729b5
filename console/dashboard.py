"""The admin home (UNFOLD["DASHBOARD_CALLBACK"]): the figures finance starts the day with, each
linking to the rows behind it (admin changelists with their filters).

MRR and the monitoring figures come from analytics selectors that land from other branches
(`analytics.selectors.mrr`, `analytics.selectors.monitoring`); until they are there, their tiles
say so instead of showing a number.
"""

from datetime import timedelta
from importlib import import_module

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.http import urlencode

from billing_project.shared.admin import money_display
from billing_project.shared.clock import utcnow
from dunning.selectors import recovery_figures
from invoicing.ar_reports import ar_aging
from invoicing.models import BillingRunFailure, Invoice
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


def _optional(module: str, name: str):
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _mrr(now) -> dict:
    report = _optional("analytics.selectors.mrr", "mrr_report")
    trend = _optional("analytics.selectors.mrr", "mrr_trend")
    if report is None:
        return {"available": False}
    month_start = now.date().replace(day=1)
    body = report(start_date=month_start, end_date=now.date(), now=now)
    metrics = body.get("metrics", {})
    currency = body.get("currency") or "usd"
    return {
        "available": True,
        "report": body,
        "total_display": money_display(metrics.get("total_mrr"), currency),
        "net_new_display": money_display(metrics.get("net_new_mrr"), currency),
        "trend": trend(months=12, now=now) if trend else [],
    }


def _monitoring(now) -> list[dict] | None:
    figures = _optional("analytics.selectors.monitoring", "monitoring_figures")
    return figures(now=now) if figures else None


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
    context.update(
        {
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
                "run_failures_url": _url(
                    "admin:invoicing_billingrunfailure_changelist", resolved__exact="0"
                ),
                "mrr": _mrr(now),
                "monitoring": _monitoring(now),
            }
        }
    )
    # The dj-stripe mirror is folded away in the sidebar; the home page does not list it.
    context["app_list"] = [a for a in context.get("app_list", []) if a["app_label"] != "djstripe"]
    return context
