"""Writes of the figures staff enter: acquisition spend per month and currency, cost per plan."""

from datetime import date, datetime

from django.db import transaction

from analytics.models import AcquisitionSpend, PlanCost


def acquisition_spend_put(
    *, month: date, amount: int, currency: str, note: str = "", actor: str = "", now: datetime
) -> tuple[AcquisitionSpend, bool]:
    """Enter the spend of `month` in `currency`; entering the same month and currency again
    replaces it. Returns (row, created). Safe to run twice (unique on month and currency)."""
    with transaction.atomic():
        row, created = AcquisitionSpend.objects.select_for_update().get_or_create(
            month=month.replace(day=1),
            currency=currency,
            defaults={
                "amount": amount,
                "note": note,
                "entered_by": actor,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not created:
            row.amount, row.note, row.entered_by, row.updated_at = amount, note, actor, now
            row.save(update_fields=["amount", "note", "entered_by", "updated_at"])
    return row, created


def plan_cost_put(
    *, plan, amount: int, currency: str, note: str = "", now: datetime
) -> tuple[PlanCost, bool]:
    """Set the cost of one subscriber-month of `plan` (replacing any earlier figure)."""
    with transaction.atomic():
        row, created = PlanCost.objects.select_for_update().get_or_create(
            plan=plan,
            defaults={"amount": amount, "currency": currency, "note": note, "updated_at": now},
        )
        if not created:
            row.amount, row.currency, row.note, row.updated_at = amount, currency, note, now
            row.save(update_fields=["amount", "currency", "note", "updated_at"])
    return row, created
