import pytest
from django.contrib.auth import get_user_model

from billing_project.shared.clock import utcnow
from subscriptions.models import Plan
from subscriptions.services.subscriptions import subscription_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("finance", "f@x.io", "pw")
    client.force_login(user)
    return client


def test_admin_cancel_and_reactivate_actions_call_services(staff, tenant):
    sub = subscription_create(tenant=tenant, plan=Plan.objects.get(slug="team"), now=utcnow())
    url = "/admin/subscriptions/subscription/"
    assert staff.get(url, {"flag": "cancelling"}).status_code == 200
    staff.post(url, {"action": "cancel_at_period_end", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.cancel_at_period_end
    assert sub.changes.filter(kind="cancel_scheduled", actor="staff:finance").exists()
    staff.post(url, {"action": "reactivate", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert not sub.cancel_at_period_end
    assert staff.get(f"{url}{sub.pk}/change/").status_code == 200
    assert staff.get("/admin/subscriptions/coupon/").status_code == 200
