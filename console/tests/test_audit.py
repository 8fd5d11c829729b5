"""The audit trail: database triggers record every change of a tracked finance row (admin form,
admin action, service, bulk update) with the request's user and URL; the admin page merges them
with Django's admin log and filters them."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from pghistory.models import Events

from console.admin_audit import audit_trail
from console.models import EVENT_MODELS
from console.roles import AUDITOR
from invoicing.tests.conftest import start
from subscriptions.models import Coupon, Plan
from subscriptions.services.coupons import coupon_create
from subscriptions.tests.test_catalog_admin import form_data

pytestmark = pytest.mark.django_db

TRAIL = "/admin/console/audittrail/"


def events_of(obj):
    return list(Events.objects.tracks(obj).order_by("pgh_id"))


def edit(web, obj, **updates):
    opts = obj._meta
    url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
    data = {**form_data(web.get(url)), **updates}
    response = web.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    return url


def test_a_plan_edit_is_recorded_with_user_url_and_before_after(superuser_web):
    plan = Plan.objects.get(slug="developer")
    url = edit(superuser_web, plan, name="Developer Plus")
    last = events_of(plan)[-1]
    assert last.pgh_label == "update"
    assert last.pgh_diff["name"] == ["Developer", "Developer Plus"]
    assert set(last.pgh_diff) == {"name"}
    assert last.pgh_context == {"user": superuser_web.user.pk, "url": url}
    # Django's admin log has the form save too.
    assert LogEntry.objects.filter(object_id=str(plan.pk), user=superuser_web.user).exists()


def test_a_coupon_edit_is_recorded(superuser_web):
    coupon = coupon_create(
        code="SAVE10", percent_off=10, duration="forever", now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    edit(superuser_web, coupon, name="Ten percent off", max_redemptions=5)
    inserted, updated = events_of(coupon)
    assert inserted.pgh_label == "insert" and inserted.pgh_context is None  # a service, no request
    assert updated.pgh_diff["name"] == ["", "Ten percent off"]
    assert updated.pgh_diff["max_redemptions"] == [None, 5]
    assert updated.pgh_context["user"] == superuser_web.user.pk


def test_an_admin_action_is_recorded(superuser_web, tenant):
    _, invoice = start(tenant)
    superuser_web.post(
        "/admin/invoicing/invoice/", {"action": "void", "_selected_action": [str(invoice.pk)]}
    )
    last = events_of(invoice)[-1]
    assert last.pgh_diff["status"] == ["open", "void"]
    assert last.pgh_context == {"user": superuser_web.user.pk, "url": "/admin/invoicing/invoice/"}


def test_bulk_updates_and_deletes_in_services_are_recorded_too():
    plan = Plan.objects.get(slug="team")
    Plan.objects.filter(pk=plan.pk).update(description="bulk")
    last = events_of(plan)[-1]
    assert last.pgh_label == "update" and last.pgh_diff["description"] == [plan.description, "bulk"]
    coupon = coupon_create(code="GONE", amount_off=100, currency="usd", duration="once",
                           now=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    pk = coupon.pk
    Coupon.objects.filter(pk=pk).delete()
    labels = [e.pgh_label for e in Events.objects.across(EVENT_MODELS["subscriptions.Coupon"])
              .filter(pgh_obj_id=str(pk)).order_by("pgh_id")]  # fmt: skip
    assert labels == ["insert", "delete"]


def test_an_unchanged_save_records_nothing(superuser_web):
    plan = Plan.objects.get(slug="enterprise")
    before = len(events_of(plan))
    plan.save()
    assert len(events_of(plan)) == before


def test_the_audit_trail_page_merges_filters_and_shows_diffs(superuser_web, web_for, tenant):
    plan = Plan.objects.get(slug="developer")
    edit(superuser_web, plan, name="Developer Plus")
    _, invoice = start(tenant)
    superuser_web.post(
        "/admin/invoicing/invoice/", {"action": "void", "_selected_action": [str(invoice.pk)]}
    )
    web = web_for(AUDITOR)
    page = web.get(TRAIL)
    assert page.status_code == 200
    rows = page.context["rows"]
    sources = {row["source"] for row in rows}
    assert sources == {"database", "admin log"}
    by_user = web.get(TRAIL, {"user": superuser_web.user.pk}).context["rows"]
    assert by_user and all(row["user"] == "boss" for row in by_user)
    plan_rows = web.get(TRAIL, {"model": "subscriptions.Plan", "object": str(plan.pk)}).context[
        "rows"
    ]
    update = next(r for r in plan_rows if r["source"] == "database" and r["what"] == "update")
    assert {"field": "name", "before": "Developer", "after": "Developer Plus"} in update["changes"]
    assert update["url"] == f"/admin/subscriptions/plan/{plan.pk}/change/"
    assert any(r["source"] == "admin log" and r["what"] == "changed" for r in plan_rows)
    assert b"Developer Plus" in web.get(TRAIL, {"model": "subscriptions.Plan"}).content
    void = web.get(TRAIL, {"model": "invoicing.Invoice", "object": str(invoice.pk)})
    assert any(
        {"field": "status", "before": "open", "after": "void"} in r["changes"]
        for r in void.context["rows"]
    )
    future = web.get(TRAIL, {"date_from": "2999-01-01"}).context["rows"]
    assert future == []
    assert web.get(TRAIL, {"date_from": "bad", "user": "x"}).status_code == 200


def test_the_trail_is_read_only(superuser_web):
    assert superuser_web.get(f"{TRAIL}add/").status_code == 404
    assert audit_trail(params={})["filters"]["date_from"]
