"""The finance reports in the admin (Invoices > Finance reports): the trial balance, AR aging
(tenants linked), the revenue report and a tenant statement, from the same selectors as the
API (`ledger/trial-balance`, `reports/ar-aging`, `reports/revenue`, `tenants/{id}/statement`)."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from billing_project.shared.clock import utcnow
from billing_project.shared.money import format_money
from invoicing.ar_reports import ar_aging, tenant_statement
from invoicing.revenue_report import revenue_report
from ledger.selectors import trial_balances
from subscriptions.models import Tenant

REPORTS = {
    "trial_balance": "Trial balance",
    "ar_aging": "AR aging",
    "revenue": "Revenue (recognized, deferred, waterfall)",
    "statement": "Tenant statement",
}
AGING = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "total")


def _date(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _tenant_link(tenant_id, name) -> str:
    url = reverse("admin:subscriptions_tenant_change", args=[tenant_id])
    return format_html("<a href='{}'>{}</a>", url, name)


def _trial_balance(params, today):
    as_of = _date(params.get("as_of", ""), today)
    before = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    tables = []
    for tb in trial_balances(before=before):
        money = lambda v, c=tb["currency"]: format_money(v, c)  # noqa: E731
        rows = [
            (a["code"], a["name"], money(a["debit"]), money(a["credit"])) for a in tb["accounts"]
        ]
        rows.append(("", "Totals", money(tb["totals"]["debit"]), money(tb["totals"]["credit"])))
        tables.append((tb["currency"].upper(), ("Code", "Account", "Debit", "Credit"), rows))
    return f"as of {as_of}", tables


def _ar_aging(params, today):
    as_of = _date(params.get("as_of", ""), today)
    tables = []
    for report in ar_aging(as_of=as_of):
        currency = report["currency"]
        rows = [
            (_tenant_link(t["tenant_id"], t["tenant_name"]),
             *(format_money(t[k], currency) for k in AGING))
            for t in report["tenants"]
        ]  # fmt: skip
        rows.append(("Total", *(format_money(report["totals"][k], currency) for k in AGING)))
        headers = ("Tenant", "Current", "1-30", "31-60", "61-90", "90+", "Total")
        tables.append((currency.upper(), headers, rows))
    return f"as of {as_of}", tables


def _revenue(params, today):
    month = _date((params.get("month") or "") + "-01" if params.get("month") else "", today)
    month = month.replace(day=1)
    tables = []
    for report in revenue_report(month=month, today=today):
        currency = report["currency"]
        rows = [(r["plan"] or "-", r["kind"], format_money(r["amount"], currency))
                for r in report["by_plan_and_kind"]]  # fmt: skip
        rows.append(("Recognized", "", format_money(report["recognized"], currency)))
        rows.append(
            ("Deferred at month end", "", format_money(report["deferred_at_month_end"], currency))
        )
        rows += [(f"To recognize in {w['month']}", "", format_money(w["amount"], currency))
                 for w in report["waterfall"]]  # fmt: skip
        tables.append((currency.upper(), ("Plan", "Kind", "Amount"), rows))
    return f"month {month:%Y-%m}", tables


def _statement(params, today):
    tenant = (
        Tenant.objects.filter(pk=params.get("tenant_id") or None).first()
        if _uuid(params.get("tenant_id"))
        else None
    )
    if tenant is None:
        return "choose a tenant (tenant_id)", []
    start = _date(params.get("from", ""), today.replace(day=1))
    end = _date(params.get("to", ""), today)
    st = tenant_statement(tenant_id=tenant.pk, currency=tenant.currency, start=start, end=end)
    money = lambda v: format_money(v, st["currency"])  # noqa: E731
    rows = [("", "", "", "Opening balance", "", "", money(st["opening_balance"]))]
    rows += [(ln["date"], ln["document_type"], ln["number"] or "", ln["description"],
              money(ln["debit"]), money(ln["credit"]), money(ln["balance"]))
             for ln in st["lines"]]  # fmt: skip
    rows.append(("", "", "", "Closing balance", "", "", money(st["closing_balance"])))
    headers = ("Date", "Document", "Number", "Description", "Debit", "Credit", "Balance")
    return format_html("{} from {} to {}", _tenant_link(tenant.pk, tenant.name), start, end), [
        (st["currency"].upper(), headers, rows)
    ]


def _uuid(value) -> bool:
    try:
        UUID(str(value))
    except (ValueError, TypeError):
        return False
    return True


BUILDERS = {
    "trial_balance": _trial_balance,
    "ar_aging": _ar_aging,
    "revenue": _revenue,
    "statement": _statement,
}


def finance_reports_view(admin_site, request):
    kind = request.GET.get("report") if request.GET.get("report") in REPORTS else "trial_balance"
    subtitle, tables = BUILDERS[kind](request.GET, utcnow().date())
    context = {
        **admin_site.each_context(request),
        "title": f"Finance reports: {REPORTS[kind]}",
        "reports": REPORTS,
        "report_kind": kind,
        "subtitle": subtitle,
        "tables": tables,
        "params": request.GET,
    }
    return TemplateResponse(request, "admin/invoicing/finance_reports.html", context)
