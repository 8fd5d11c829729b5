import threading

import pytest
from django.db import connection

from subscriptions.models import Plan, Subscription, SubscriptionChange

pytestmark = pytest.mark.django_db


def create(client, tenant, **body):
    return client.post("subscriptions", {"tenant_id": str(tenant.id), "plan_id": "team", **body})


def test_create_trial_subscription_with_slug_and_coupon(tenant, tenant_admin_client, staff_client):
    assert (
        staff_client.post(
            "coupons",
            {
                "code": "WELCOME20",
                "percent_off": 20,
                "duration": "repeating",
                "duration_in_months": 2,
            },
        ).status_code
        == 201
    )
    response = create(tenant_admin_client, tenant, trial_period_days=14, coupon_code="welcome20")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "trialing"
    assert body["plan_id"] == str(Plan.objects.get(slug="team").id)
    assert body["tenant_id"] == str(tenant.id)
    assert body["coupon"]["code"] == "WELCOME20" and body["coupon"]["percent_off"] == 20
    for field in (
        "current_period_start",
        "current_period_end",
        "trial_end",
        "cancel_at_period_end",
        "pending_plan_id",
        "stripe_customer_id",
    ):
        assert field in body
    assert body["trial_end"].endswith("Z")


def test_create_with_plan_uuid_and_tenant_defaulting_to_own(tenant, tenant_admin_client):
    plan = Plan.objects.get(slug="developer")
    response = tenant_admin_client.post("subscriptions", {"plan_id": str(plan.id)})
    assert response.status_code == 201
    assert response.json()["status"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan_id": "nope"}, "plan_id"),
        ({"trial_period_days": -1}, "trial_period_days"),
        ({"trial_period_days": 731}, "trial_period_days"),
        ({"trial_period_days": "many"}, "trial_period_days"),
        ({"coupon_code": "MISSING"}, "coupon_code"),
        ({"tenant_id": "not-a-uuid"}, "tenant_id"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(tenant, staff_client, body, field):
    response = staff_client.post(
        "subscriptions", {"tenant_id": str(tenant.id), "plan_id": "team", **body}
    )
    assert response.status_code == 400, response.json()
    assert response.json()["code"] in ("validation_error", "invalid_coupon")
    assert field in response.json()["errors"]
    assert not Subscription.objects.exists()


def test_second_live_subscription_is_409(tenant, staff_client):
    assert create(staff_client, tenant).status_code == 201
    response = create(staff_client, tenant)
    assert response.status_code == 409
    assert response.json()["code"] == "subscription_exists"


def test_unknown_tenant_404_and_other_tenant_404(
    tenant, other_tenant, tenant_admin_client, staff_client
):
    assert (
        staff_client.post(
            "subscriptions",
            {"tenant_id": "00000000-0000-0000-0000-000000000000", "plan_id": "team"},
        ).status_code
        == 404
    )
    assert create(tenant_admin_client, other_tenant).status_code == 404
    assert not Subscription.objects.exists()


def test_member_reads_but_may_not_write(tenant, tenant_member_client, staff_client):
    assert create(tenant_member_client, tenant).status_code == 403
    sub_id = create(staff_client, tenant).json()["id"]
    assert tenant_member_client.get(f"subscriptions/{sub_id}").status_code == 200
    assert (
        tenant_member_client.patch(
            f"subscriptions/{sub_id}", {"cancel_at_period_end": True}
        ).status_code
        == 403
    )
    assert tenant_member_client.post(f"subscriptions/{sub_id}/reactivate").status_code == 403


def test_tenants_see_only_their_own(tenant, other_tenant, admin_client_for, staff_client):
    mine = create(staff_client, tenant).json()["id"]
    theirs = create(staff_client, other_tenant).json()["id"]
    client = admin_client_for(tenant)
    listed = client.get("subscriptions").json()
    assert [s["id"] for s in listed["results"]] == [mine]
    assert client.get(f"subscriptions/{theirs}").status_code == 404
    assert (
        client.patch(f"subscriptions/{theirs}", {"cancel_at_period_end": True}).status_code == 404
    )
    assert client.get("subscriptions", {"tenant_id": str(other_tenant.id)}).status_code == 404
    assert client.get("subscriptions/not-a-uuid").status_code == 404
    staff_view = staff_client.get("subscriptions", {"tenant_id": str(other_tenant.id)}).json()
    assert [s["id"] for s in staff_view["results"]] == [theirs]
    assert staff_client.get("subscriptions", {"status": "active"}).json()["count"] == 2


def test_upgrade_returns_recorded_proration(tenant, tenant_admin_client):
    sub_id = create(tenant_admin_client, tenant, plan_id="developer").json()["id"]
    response = tenant_admin_client.patch(
        f"subscriptions/{sub_id}", {"plan_id": "team", "prorate": True}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["plan_id"] == str(Plan.objects.get(slug="team").id)
    proration = body["proration"]
    # Upgraded the same day it started: the whole period remains.
    assert proration["numerator"] == proration["denominator"]
    assert proration["amount"] == 15000
    assert proration["fraction"] == f"{proration['numerator']}/{proration['denominator']}"


def test_downgrade_sets_pending_plan_and_same_plan_is_409(tenant, tenant_admin_client):
    sub_id = create(tenant_admin_client, tenant, plan_id="team").json()["id"]
    response = tenant_admin_client.patch(f"subscriptions/{sub_id}", {"plan_id": "developer"})
    assert response.status_code == 200
    assert response.json()["pending_plan_id"] == str(Plan.objects.get(slug="developer").id)
    assert response.json()["proration"] is None
    stay = tenant_admin_client.patch(f"subscriptions/{sub_id}", {"plan_id": "team"})
    assert stay.status_code == 200 and stay.json()["pending_plan_id"] is None
    same = tenant_admin_client.patch(f"subscriptions/{sub_id}", {"plan_id": "team"})
    assert same.status_code == 409 and same.json()["code"] == "same_plan"


def test_cancel_then_reactivate(tenant, tenant_admin_client):
    sub_id = create(tenant_admin_client, tenant).json()["id"]
    response = tenant_admin_client.patch(
        f"subscriptions/{sub_id}", {"cancel_at_period_end": True, "cancellation_reason": "price"}
    )
    assert response.status_code == 200
    assert response.json()["cancel_at_period_end"] is True
    assert response.json()["cancellation_reason"] == "price"
    again = tenant_admin_client.patch(f"subscriptions/{sub_id}", {"cancel_at_period_end": True})
    assert again.status_code == 200
    response = tenant_admin_client.post(f"subscriptions/{sub_id}/reactivate")
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is False
    assert tenant_admin_client.post(f"subscriptions/{sub_id}/reactivate").status_code == 200


def test_patch_requires_exactly_one_kind_of_change(tenant, tenant_admin_client):
    sub_id = create(tenant_admin_client, tenant).json()["id"]
    assert tenant_admin_client.patch(f"subscriptions/{sub_id}", {}).status_code == 400
    both = {"plan_id": "enterprise", "cancel_at_period_end": True}
    assert tenant_admin_client.patch(f"subscriptions/{sub_id}", both).status_code == 400
    assert (
        tenant_admin_client.patch(f"subscriptions/{sub_id}", {"plan_id": "unknown"}).status_code
        == 400
    )


def test_coupons_are_staff_only_and_validated(tenant_admin_client, staff_client):
    assert tenant_admin_client.get("coupons").status_code == 403
    assert (
        tenant_admin_client.post(
            "coupons", {"code": "X", "percent_off": 5, "duration": "once"}
        ).status_code
        == 403
    )
    bad = [
        {"code": "A", "duration": "once"},
        {"code": "A", "percent_off": 10, "amount_off": 100, "duration": "once"},
        {"code": "A", "percent_off": 150, "duration": "once"},
        {"code": "A", "percent_off": 10, "duration": "repeating"},
        {"code": "A", "amount_off": -5, "duration": "once"},
        {"code": "A", "percent_off": 10, "duration": "weekly"},
    ]
    for body in bad:
        assert staff_client.post("coupons", body).status_code == 400, body
    ok = staff_client.post(
        "coupons",
        {"code": "TENOFF", "amount_off": 1000, "duration": "forever", "max_redemptions": 5},
    )
    assert ok.status_code == 201 and ok.json()["currency"] == "usd"
    assert (
        staff_client.post(
            "coupons", {"code": "tenoff", "percent_off": 5, "duration": "once"}
        ).status_code
        == 409
    )
    assert staff_client.get("coupons").json()["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_plan_changes_record_one_proration_each(make_tenant, token_for):
    from conftest import BillingClient

    tenant = make_tenant()
    client = BillingClient(token_for("tenant_admin", tenant))
    sub_id = create(client, tenant, plan_id="developer").json()["id"]
    results = []

    def upgrade(slug):
        c = BillingClient(client.token)
        results.append(c.patch(f"subscriptions/{sub_id}", {"plan_id": slug}).status_code)
        connection.close()

    threads = [threading.Thread(target=upgrade, args=(s,)) for s in ("team", "enterprise")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in ([200, 200], [200, 409])
    changes = SubscriptionChange.objects.filter(subscription_id=sub_id).exclude(kind="created")
    sub = Subscription.objects.get(pk=sub_id)
    # One change per successful PATCH; whichever ran second saw the first one's plan.
    assert changes.count() == results.count(200)
    assert sub.plan.slug == "enterprise"
    upgrades = changes.filter(kind="upgraded")
    assert upgrades.filter(proration_amount__isnull=False).count() == upgrades.count()
    if changes.filter(kind="downgrade_scheduled").exists():
        assert sub.pending_plan.slug == "team"


def test_patch_treats_null_optional_fields_as_absent(tenant, tenant_admin_client):
    sub_id = create(tenant_admin_client, tenant, plan_id="developer").json()["id"]
    response = tenant_admin_client.patch(
        f"subscriptions/{sub_id}",
        {"plan_id": "team", "prorate": None, "cancel_at_period_end": None},
    )
    assert response.status_code == 200, response.content
    assert response.json()["proration"]["amount"] == 15000  # prorate defaults to true
    response = tenant_admin_client.patch(
        f"subscriptions/{sub_id}", {"plan_id": None, "cancel_at_period_end": True}
    )
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is True


def test_coupon_refusals_are_validation_errors_with_the_reason(tenant, tenant_admin_client):
    response = create(tenant_admin_client, tenant, coupon_code="NOPE")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == {"coupon_code": ["unknown"]}
