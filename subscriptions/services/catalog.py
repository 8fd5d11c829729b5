"""Plans and metrics."""

from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Q

from billing_project.shared.errors import Conflict, ValidationFailed, raise_if_invalid
from subscriptions import validation
from subscriptions.models import Metric, Plan, PlanMetric, Subscription, SubscriptionChange
from subscriptions.models.catalog import Aggregation

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


def _metric_rows(metrics: list[dict], errors: dict) -> list[tuple[Metric, Decimal, Decimal]]:
    rows = []
    known = {m.metric_type: m for m in Metric.objects.all()}
    seen = set()
    for index, item in enumerate(metrics):
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
    return rows


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
    rows = _metric_rows(metrics or [], errors)
    raise_if_invalid(errors)
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


# What a subscription was priced with: fixed once any subscription (or plan change) names the plan.
PLAN_PRICED_FIELDS = ("amount", "currency", "interval")
PLAN_EDITABLE_FIELDS = ("name", "description", "trial_period_days", "active")


def plan_in_use(*, plan: Plan) -> bool:
    return (
        Subscription.objects.filter(Q(plan=plan) | Q(pending_plan=plan)).exists()
        or SubscriptionChange.objects.filter(Q(from_plan=plan) | Q(to_plan=plan)).exists()
    )


def plan_update(*, plan: Plan, fields: dict, metrics: list[dict] | None = None) -> Plan:
    """Change a plan. Its price, currency, interval and metrics are fixed once it is in use.

    `fields` holds only what changes; `metrics` (when given) replaces the plan's metrics.
    """
    unknown = sorted(set(fields) - set(PLAN_PRICED_FIELDS) - set(PLAN_EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"These fields may not be changed: {', '.join(unknown)}.",
            errors={name: ["This field may not be changed."] for name in unknown},
        )
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        priced = {n for n in PLAN_PRICED_FIELDS if n in fields and fields[n] != getattr(plan, n)}
        if (priced or metrics is not None) and plan_in_use(plan=plan):
            raise Conflict(
                "The plan is in use: its price, currency, interval and metrics are fixed.",
                code="plan_in_use",
            )
        errors: dict[str, list[str]] = {}
        cleaned = dict(fields)
        if "name" in fields and not (fields["name"] or "").strip():
            errors["name"] = ["This field may not be blank."]
        if "currency" in fields:
            try:
                cleaned["currency"] = validation.clean_currency(fields["currency"])
            except ValueError as exc:
                errors["currency"] = [str(exc)]
        if "interval" in fields and fields["interval"] != "month":
            errors["interval"] = ["Only monthly plans are supported."]
        if "trial_period_days" in fields and not 0 <= fields["trial_period_days"] <= MAX_TRIAL_DAYS:
            errors["trial_period_days"] = [f"Must be between 0 and {MAX_TRIAL_DAYS}."]
        if "amount" in fields and not 0 <= fields["amount"] <= MAX_AMOUNT:
            errors["amount"] = [f"Must be between 0 and {MAX_AMOUNT} (minor units)."]
        rows = _metric_rows(metrics, errors) if metrics is not None else None
        raise_if_invalid(errors)
        for name, value in cleaned.items():
            setattr(plan, name, value)
        plan.save()
        if rows is not None:
            plan.plan_metrics.all().delete()
            PlanMetric.objects.bulk_create(
                PlanMetric(plan=plan, metric=m, included_quantity=limit, overage_unit_price=price)
                for m, limit, price in rows
            )
    return plan


def metric_in_use(*, metric: Metric) -> bool:
    if PlanMetric.objects.filter(metric=metric).exists():
        return True
    # Usage sits above subscriptions (it may not be imported here); its events name metrics.
    usage_event = apps.get_model("usage", "UsageEvent")
    return usage_event.objects.filter(metric_id=metric.pk).exists()


def _clean_metric(fields: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {}
    limits = {"metric_type": 64, "name": 100, "unit": 30}
    for name, limit in limits.items():
        if name in fields:
            value = (fields[name] or "").strip()
            if name != "unit" and not value:
                errors[name] = ["This field may not be blank."]
            elif len(value) > limit:
                errors[name] = [f"At most {limit} characters."]
            cleaned[name] = value
    if "metric_type" in cleaned and not errors.get("metric_type"):
        try:
            cleaned["metric_type"] = validation.clean_slug(cleaned["metric_type"])
        except ValueError as exc:
            errors["metric_type"] = [str(exc)]
    if "aggregation" in fields:
        if fields["aggregation"] not in Aggregation.values:
            errors["aggregation"] = [f"Must be one of {', '.join(Aggregation.values)}."]
        cleaned["aggregation"] = fields["aggregation"]
    raise_if_invalid(errors)
    return cleaned


def metric_create(*, metric_type: str, name: str, aggregation: str, unit: str = "") -> Metric:
    cleaned = _clean_metric(
        {"metric_type": metric_type, "name": name, "unit": unit, "aggregation": aggregation}
    )
    try:
        with transaction.atomic():
            return Metric.objects.create(**cleaned)
    except IntegrityError as exc:
        raise Conflict(
            f"A metric {cleaned['metric_type']!r} exists.", code="metric_exists"
        ) from exc


def metric_update(*, metric: Metric, fields: dict) -> Metric:
    """Name and unit may change; the slug and the aggregation are fixed once plans or events use
    the metric (past usage would be re-aggregated differently)."""
    with transaction.atomic():
        metric = Metric.objects.select_for_update().get(pk=metric.pk)
        cleaned = _clean_metric(fields)
        fixed = {
            n
            for n in ("metric_type", "aggregation")
            if n in cleaned and cleaned[n] != getattr(metric, n)
        }
        if fixed and metric_in_use(metric=metric):
            raise Conflict(
                "The metric is in use: its metric_type and aggregation are fixed.",
                code="metric_in_use",
            )
        for name, value in cleaned.items():
            setattr(metric, name, value)
        try:
            with transaction.atomic():
                metric.save()
        except IntegrityError as exc:
            raise Conflict(
                f"A metric {metric.metric_type!r} exists.", code="metric_exists"
            ) from exc
    return metric
