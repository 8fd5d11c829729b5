"""JSON shapes of the insights figures (plain dicts: quantities as exact JSON numbers, money
in integer minor units, times ISO 8601 UTC with `Z`), shared by the API and the dashboard."""

from analytics.calculations.forecast import change_pct
from usage.serializers import iso_z, json_number


def tenant_ref(tenant) -> dict:
    return {"tenant_id": str(tenant.pk), "tenant_name": tenant.name}


def usage_report_data(report: dict) -> dict:
    tenants = []
    for row in report["tenants"]:
        metrics = {
            metric: {
                "aggregation": m.aggregation,
                "total": json_number(m.total),
                "limit": json_number(m.limit),
                "overage": json_number(m.overage),
                "unit_price_cents": json_number(m.unit_price_cents),
                "overage_revenue": m.overage_revenue,
                "trend": {
                    "previous_total": json_number(m.previous_total),
                    "previous_overage_revenue": m.previous_overage_revenue,
                    "change": json_number(m.change),
                    "change_pct": m.change_pct,
                },
            }
            for metric, m in row["metrics"].items()
        }
        tenants.append(
            {
                **tenant_ref(row["tenant"]),
                "plan": row["subscription"].plan.slug,
                "subscription_status": row["subscription"].status,
                "currency": row["currency"],
                "overage_revenue": row["overage_revenue"],
                "previous_overage_revenue": row["previous_overage_revenue"],
                "metrics": metrics,
            }
        )
    totals = {}
    for currency, total in sorted(report["totals"].items()):
        totals[currency] = {
            "overage_revenue": total["overage_revenue"],
            "previous_overage_revenue": total["previous_overage_revenue"],
            "change_pct": change_pct(
                previous=total["previous_overage_revenue"], current=total["overage_revenue"]
            ),
            "by_metric": {
                metric: {
                    **({"total": json_number(item["total"])} if "total" in item else {}),
                    "aggregation": item["aggregation"],
                    "overage": json_number(item["overage"]),
                    "overage_revenue": item["overage_revenue"],
                }
                for metric, item in sorted(total["by_metric"].items())
            },
        }
    return {
        "period": {
            "days": report["days"],
            "start": iso_z(report["start"]),
            "end": iso_z(report["end"]),
        },
        "previous_period": {
            "start": iso_z(report["previous_start"]),
            "end": iso_z(report["start"]),
        },
        "tenants": tenants,
        "totals": totals,
    }


def forecast_data(forecast: dict) -> dict:
    tenants = [
        {
            **tenant_ref(row["tenant"]),
            "plan": row["subscription"].plan.slug,
            "currency": row["currency"],
            "period": {"start": iso_z(row["period_start"]), "end": iso_z(row["period_end"])},
            "elapsed_pct": row["elapsed_pct"],
            "overage_cost_now": row["overage_cost_now"],
            "forecast_overage_cost": row["forecast_overage_cost"],
            "metrics_over_limit": row["metrics_over_limit"],
            "metrics": {
                metric: {
                    "aggregation": f.aggregation,
                    "current": json_number(f.current),
                    "limit": json_number(f.limit),
                    "unit_price_cents": json_number(f.unit_price_cents),
                    "overage_now": json_number(f.overage_now),
                    "overage_cost_now": f.overage_cost_now,
                    "forecast": json_number(f.forecast),
                    "forecast_overage": json_number(f.forecast_overage),
                    "forecast_overage_cost": f.forecast_overage_cost,
                }
                for metric, f in row["metrics"].items()
            },
        }
        for row in forecast["tenants"]
    ]
    summary = {
        currency: {**total, "by_metric": dict(sorted(total["by_metric"].items()))}
        for currency, total in sorted(forecast["summary"].items())
    }
    return {"as_of": iso_z(forecast["as_of"]), "summary": summary, "tenants": tenants}


def health_data(row: dict) -> dict:
    health = row["health"]
    return {
        **tenant_ref(row["tenant"]),
        "tenant_status": row["tenant"].status,
        "score": health.score,
        "grade": health.grade,
        "parts": {
            name: {
                "value": part.value,
                "penalty": part.penalty,
                "max_penalty": part.max_penalty,
            }
            for name, part in (
                ("failed_attempts", health.failed_attempts),
                ("days_past_due", health.days_past_due),
                ("open_dunning_cases", health.open_dunning_cases),
            )
        },
        "oldest_due_at": iso_z(row["oldest_due_at"]) if row["oldest_due_at"] else None,
        "amount_due": row["amount_due"],
    }


def health_summary(rows: list[dict]) -> dict:
    grades = {"healthy": 0, "at_risk": 0, "critical": 0}
    for row in rows:
        grades[row["health"].grade] += 1
    scores = [row["health"].score for row in rows]
    return {
        "tenants": len(rows),
        **grades,
        "average_score": round(sum(scores) / len(scores), 1) if scores else None,
    }


def spend_data(item: dict) -> dict:
    row = item["spend"]
    return {
        "id": str(row.pk),
        "month": row.month.strftime("%Y-%m"),
        "amount": row.amount,
        "currency": row.currency,
        "note": row.note,
        "entered_by": row.entered_by,
        "new_customers": item["new_customers"],
        "cac": item["cac"],
        "created_at": iso_z(row.created_at),
        "updated_at": iso_z(row.updated_at),
    }


def plan_cost_data(row) -> dict:
    return {
        "plan": row.plan.slug,
        "plan_id": str(row.plan_id),
        "amount": row.amount,
        "currency": row.currency,
        "note": row.note,
        "updated_at": iso_z(row.updated_at),
    }
