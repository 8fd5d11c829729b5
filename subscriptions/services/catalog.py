"""Plans and metrics."""

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from billing_project.shared.errors import Conflict, ValidationFailed
from subscriptions import validation
from subscriptions.models import Metric, Plan, PlanMetric

MAX_AMOUNT = 10**12
MAX_TRIAL_DAYS = 730


def _decimal(value, field: str, errors: dict) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        errors.setdefault(field, []).append("Must be a number.")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.setdefault(field, []).append("Must be a number.")
        return None
    if not number.is_finite() or number < 0 or number > MAX_AMOUNT:
        errors.setdefault(field, []).append(f"Must be between 0 and {MAX_AMOUNT}.")
        return None
    if number.as_tuple().exponent < -6:
        errors.setdefault(field, []).append("At most 6 decimal places.")
        return None
    return number


def plan_create(
    *,
    slug: str,
    name: str,
    amount: int,
    currency: str = "usd",
    interval: str = "month",
    trial_period_days: int = 0,
    description: str = "",
    metrics: list[dict] | None = None,
) -> Plan:
    errors: dict[str, list[str]] = {}
    if Plan.objects.filter(slug=slug).exists():
        raise Conflict(f"A plan with slug {slug!r} exists.", code="plan_exists")
    try:
        currency = validation.clean_currency(currency)
    except ValueError as exc:
        errors["currency"] = [str(exc)]
    if interval != "month":
        errors["interval"] = ["Only monthly plans are supported."]
    if not 0 <= trial_period_days <= MAX_TRIAL_DAYS:
        errors["trial_period_days"] = [f"Must be between 0 and {MAX_TRIAL_DAYS}."]
    if not 0 <= amount <= MAX_AMOUNT:
        errors["amount"] = [f"Must be between 0 and {MAX_AMOUNT} (minor units)."]
    rows = []
    known = {m.metric_type: m for m in Metric.objects.all()}
    seen = set()
    for index, item in enumerate(metrics or []):
        field = f"metrics[{index}]"
        metric = known.get(item.get("metric_type"))
        if metric is None:
            errors.setdefault(field, []).append(f"Unknown metric {item.get('metric_type')!r}.")
            continue
        if metric.metric_type in seen:
            errors.setdefault(field, []).append("Metric listed twice.")
            continue
        seen.add(metric.metric_type)
        limit = _decimal(item.get("limit", 0), f"{field}.limit", errors)
        price = _decimal(item.get("unit_price_cents", 0), f"{field}.unit_price_cents", errors)
        rows.append((metric, limit, price))
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"Invalid input: {first}: {errors[first][0]}", errors=errors)
    try:
        with transaction.atomic():
            plan = Plan.objects.create(
                slug=slug,
                name=name,
                amount=amount,
                currency=currency,
                interval=interval,
                trial_period_days=trial_period_days,
                description=description,
            )
            PlanMetric.objects.bulk_create(
                PlanMetric(plan=plan, metric=m, included_quantity=limit, overage_unit_price=price)
                for m, limit, price in rows
            )
    except IntegrityError as exc:
        # Every other constraint was checked above: a concurrent create took the slug.
        raise Conflict(f"A plan with slug {slug!r} exists.", code="plan_exists") from exc
    return plan
