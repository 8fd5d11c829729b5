"""The rows behind the dashboard's MRR figures (`/admin/subscriptions/subscription/mrr/`): for one
month (`?month=2026-12`, default this one) the MRR of each tenant at its end and the tenant-level
movements between its start and its end (`?movement=new|expansion|...` keeps one kind), read
through `analytics.selectors.mrr` as `GET analytics/mrr` and `analytics/mrr/movements` answer.
Needs `subscriptions.view_subscription`."""

import re
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from analytics.selectors.mrr import mrr_by_tenant_at, mrr_movements
from billing_project.shared.admin import money_display
from billing_project.shared.clock import utcnow
from subscriptions.models import Tenant

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")


def month_bounds(value: str, *, now: datetime) -> tuple[date, date]:
    """(first day, last day or today) of the month `YYYY-MM`; this month when not given, bad,
    or in the future."""
    today = now.date()
    first = date.fromisoformat(f"{value}-01") if value and MONTH.match(value) else None
    if first is None or first > today:
        first = today.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, min(last, today)


def _tenant_url(tenant_id) -> str:
    try:
        return reverse("admin:subscriptions_tenant_change", args=[tenant_id])
    except NoReverseMatch:
        return ""


def mrr_page(*, month: str, movement: str, now: datetime) -> dict:
    first, last = month_bounds(month, now=now)
    end = min(datetime.combine(last, time(23, 59, 59), tzinfo=UTC), now)
    by_tenant = mrr_by_tenant_at(moment=end)
    names = dict(Tenant.objects.filter(pk__in={t for t, _ in by_tenant}).values_list("pk", "name"))
    tenants = sorted(
        (
            {
                "name": names.get(tenant_id, str(tenant_id)),
                "url": _tenant_url(tenant_id),
                "currency": currency.upper(),
                "mrr": mrr,
                "mrr_display": money_display(mrr, currency),
            }
            for (tenant_id, currency), mrr in by_tenant.items()
        ),
        key=lambda row: (row["currency"], -row["mrr"], row["name"]),
    )
    moves = mrr_movements(start_date=first, end_date=last, now=now)
    if movement in MOVEMENTS:
        moves = [m for m in moves if m["movement"] == movement]
    for m in moves:
        m["url"] = _tenant_url(m["tenant_id"])
        m["amount_display"] = money_display(m["amount"], m["currency"])
        m["start_display"] = money_display(m["mrr_start"], m["currency"])
        m["end_display"] = money_display(m["mrr_end"], m["currency"])
    return {
        "month": first.strftime("%Y-%m"),
        "start": first,
        "end": end,
        "movement": movement if movement in MOVEMENTS else "",
        "movements": MOVEMENTS,
        "tenants": tenants,
        "moves": moves,
    }


def mrr_view(model_admin, request):
    if not request.user.has_perm("subscriptions.view_subscription"):
        raise PermissionDenied
    page = mrr_page(
        month=request.GET.get("month", ""),
        movement=request.GET.get("movement", ""),
        now=utcnow(),
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"MRR, {page['month']}",
        "opts": model_admin.opts,
        "mrr": page,
    }
    return TemplateResponse(request, "admin/console/mrr.html", context)
