"""Access, input validation, currencies, the snapshot command and its beat entry."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from analytics.models import MrrDirty, MrrSegment, SnapshotRun
from analytics.selectors import mrr as selectors
from analytics.tasks import snapshot_task
from subscriptions.models import Plan
from subscriptions.services.subscriptions import subscription_change_plan, subscription_create

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
PATHS = ("analytics/mrr", "analytics/mrr/movements", "analytics/churn")
RANGE = {"start_date": "2026-02-01", "end_date": "2026-02-28"}


@pytest.mark.parametrize("path", PATHS)
def test_staff_only(path, anon_client, tenant_admin_client, staff_client):
    assert anon_client.get(path, RANGE).status_code == 401
    assert tenant_admin_client.get(path, RANGE).status_code == 403
    assert staff_client.get(path, RANGE).status_code == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "start_date"),
        ({"start_date": "2026-02-01"}, "end_date"),
        ({"start_date": "2026-02-30", "end_date": "2026-03-01"}, "start_date"),
        ({"start_date": "01/02/2026", "end_date": "2026-03-01"}, "start_date"),
        ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, "start_date"),
        ({"start_date": "2026-02-01", "end_date": "2031-01-01"}, "end_date"),
        ({"start_date": "2026-04-01", "end_date": "2026-04-30"}, "start_date"),  # future
        ({**RANGE, "currency": "dollars"}, "currency"),
    ],
)
def test_bad_dates_are_400_per_field(path, params, field, staff_client):
    with time_machine.travel(NOW, tick=False):
        response = staff_client.get(path, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error" and field in body["errors"]


def test_movements_filter_validated(staff_client):
    response = staff_client.get("analytics/mrr/movements", {**RANGE, "movement": "bogus"})
    assert response.status_code == 400 and "movement" in response.json()["errors"]


@pytest.fixture
def two_currencies(make_tenant):
    eur = Plan.objects.create(slug="team-eur", name="Team EUR", amount=18000, currency="eur")
    t_usd, t_eur = make_tenant(name="usd"), make_tenant(name="eur", currency="eur")
    at = datetime(2026, 2, 3, tzinfo=UTC)
    subscription_create(tenant=t_usd, plan=Plan.objects.get(slug="team"), now=at)
    return subscription_create(tenant=t_eur, plan=eur, now=at)


def test_figures_per_currency_never_summed(two_currencies, staff_client):
    with time_machine.travel(NOW, tick=False):
        body = staff_client.get("analytics/mrr", RANGE).json()
        eur = staff_client.get("analytics/mrr", {**RANGE, "currency": "EUR"}).json()
    assert body["currency"] == "usd" and body["metrics"]["total_mrr"] == 20000
    assert body["by_currency"]["eur"]["metrics"]["total_mrr"] == 18000
    assert body["by_currency"]["eur"]["by_plan"]["team-eur"] == {"mrr": 18000, "subscribers": 1}
    assert eur["currency"] == "eur" and eur["metrics"]["new_mrr"] == 18000
    assert selectors.mrr_at(moment=NOW) == {"eur": 18000, "usd": 20000}
    assert sorted(selectors.mrr_by_tenant_at(moment=NOW).values()) == [18000, 20000]


def test_only_currency_present_is_the_default(make_tenant, staff_client):
    eur = Plan.objects.create(slug="solo-eur", name="Solo", amount=900, currency="eur")
    subscription_create(
        tenant=make_tenant(currency="eur"), plan=eur, now=datetime(2026, 2, 3, tzinfo=UTC)
    )
    with time_machine.travel(NOW, tick=False):
        body = staff_client.get("analytics/mrr", RANGE).json()
    assert body["currency"] == "eur" and body["metrics"]["total_mrr"] == 900


def test_end_date_today_or_later_means_now(make_tenant, staff_client):
    subscription_create(
        tenant=make_tenant(), plan=Plan.objects.get(slug="developer"), now=NOW.replace(hour=9)
    )
    with time_machine.travel(NOW, tick=False):
        body = staff_client.get(
            "analytics/mrr", {"start_date": "2026-03-01", "end_date": "2026-03-31"}
        ).json()
    assert body["period"] == {"start": "2026-03-01T00:00:00Z", "end": "2026-03-15T12:00:00Z"}
    assert body["metrics"]["new_mrr"] == 5000


def test_trend_arpu_ltv(make_tenant):
    plans = {p.slug: p for p in Plan.objects.all()}
    january, february = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC)
    subs = [
        subscription_create(tenant=make_tenant(), plan=plans[slug], now=january)
        for slug in ("developer", "team", "team")
    ]
    subscription_change_plan(subscription=subs[0], plan=plans["team"], prorate=False, now=february)
    trend = selectors.mrr_trend(months=3, now=NOW)
    assert [(r["month"], r["mrr"], r["subscribers"]) for r in trend] == [
        ("2026-01", 45000, 3),
        ("2026-02", 60000, 3),
        ("2026-03", 60000, 3),
    ]
    assert selectors.arpu(moment=NOW) == {"usd": 20000}
    assert selectors.ltv(now=NOW) == {"usd": None}  # no churn in February


def test_snapshot_command_rebuilds_the_same_rows(two_currencies, make_tenant):
    sub = subscription_create(
        tenant=make_tenant(), plan=Plan.objects.get(slug="developer"), now=NOW
    )
    subscription_change_plan(
        subscription=sub,
        plan=Plan.objects.get(slug="enterprise"),
        prorate=False,
        now=NOW.replace(hour=13),
    )
    selectors.mrr_at(moment=NOW)  # the read-time refresh computes what changed
    assert not MrrDirty.objects.exists()

    def rows():
        return sorted(
            MrrSegment.objects.values_list(
                "subscription_id", "plan_id", "currency", "mrr", "valid_from", "valid_to"
            )
        )

    incremental = rows()
    assert len(incremental) == 4
    out = StringIO()
    call_command("analytics_snapshot", "--backfill-from", "2026-01-01", stdout=out)
    assert "3 subscriptions, 4 segments" in out.getvalue()
    assert rows() == incremental
    call_command("analytics_snapshot", "--date", "2026-02-03", stdout=out)
    assert rows() == incremental
    MrrSegment.objects.all().delete()
    assert "3 subscriptions" in snapshot_task()
    assert rows() == incremental
    assert SnapshotRun.objects.count() == 3


def test_beat_runs_the_snapshot_daily():
    task = PeriodicTask.objects.get(task="analytics.snapshot")
    assert task.enabled and task.crontab.hour == "0"
