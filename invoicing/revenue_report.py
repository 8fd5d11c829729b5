"""The revenue report (`GET reports/revenue?month=YYYY-MM`): recognized revenue of the month by
plan and kind (from the recognition schedule, through the month end or today), deferred revenue
at month end (from the ledger) and the deferred revenue waterfall (what the schedule will
recognize in each later month)."""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Sum

from invoicing.services.recognition import month_end, schedules
from ledger.models import AccountRole, JournalLine


def revenue_report(*, month: date, today: date) -> list[dict]:
    """One report per currency. `month` is its first day."""
    last = month_end(month)
    through = min(last, today)
    before = month - timedelta(days=1)
    reports: dict[str, dict] = {}

    def report(currency: str) -> dict:
        return reports.setdefault(
            currency,
            {"by": {}, "waterfall": {}, "recognized": 0, "deferred_at_month_end": 0},
        )

    for line in schedules():
        current = report(line.currency)
        earned = line.through(through) - line.through(before) if through >= month else 0
        if earned:
            key = (line.plan, line.kind)
            current["by"][key] = current["by"].get(key, 0) + earned
            current["recognized"] += earned
        cursor, done = last, line.through(last)
        while done < line.amount:
            cursor = month_end(cursor + timedelta(days=1))
            step = line.through(cursor) - done
            done += step
            if step:
                label = cursor.strftime("%Y-%m")
                current["waterfall"][label] = current["waterfall"].get(label, 0) + step
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    deferred = (
        JournalLine.objects.filter(
            account__role=AccountRole.DEFERRED_REVENUE, entry__posted_at__lt=end
        )
        .values("currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    for row in deferred:
        report(row["currency"])["deferred_at_month_end"] = row["c"] - row["d"]
    return [
        {
            "month": month.strftime("%Y-%m"),
            "currency": currency,
            "recognized": data["recognized"],
            "by_plan_and_kind": [
                {"plan": plan, "kind": kind, "amount": amount}
                for (plan, kind), amount in sorted(data["by"].items())
            ],
            "deferred_at_month_end": data["deferred_at_month_end"],
            "waterfall": [
                {"month": label, "amount": amount}
                for label, amount in sorted(data["waterfall"].items())
            ],
        }
        for currency, data in sorted(reports.items())
    ]
