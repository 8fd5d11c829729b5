"""Dunning under faults and edits: hard declines, an edited policy, a worker killed mid-pass,
SMTP down."""

from datetime import timedelta

import pytest

from dunning.models import DunningCase, DunningEvent
from dunning.services.runner import dunning_run
from dunning.tests.helpers import notices, state
from payments.models import PaymentAttempt
from payments.tests.conftest import DECLINING_CARD

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]


def test_a_hard_decline_skips_retries_and_asks_for_a_new_card(declined, mailoutbox, cycle):
    tenant, invoice, case = declined
    DunningCase.objects.filter(pk=case.pk).update(last_decline_code="stolen_card")
    for day in (1, 3, 7):
        cycle(case.opened_at + timedelta(days=day, hours=1))
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1  # the initial one only
    case.refresh_from_db()
    assert "hard decline (stolen_card)" in case.retry_skipped_reason
    event = DunningEvent.objects.get(case=case, key="day:1")
    assert event.outcome.startswith("retry skipped: hard decline (stolen_card)")
    reminder = next(m for m in mailoutbox if m.subject.startswith("Payment reminder"))
    assert "please add a new card" in reminder.body
    assert state(tenant) == ("past_due", "full")


def test_a_policy_edited_through_put_is_followed(declined, staff_client, cycle, mailoutbox):
    tenant, invoice, case = declined
    response = staff_client.put(
        "dunning/policy",
        {"max_attempts": 2, "retry_schedule": [2, 5], "grace_period_days": 3,
         "auto_suspend_after_days": 14, "auto_cancel_after_days": 30},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["retry_schedule"] == [2, 5]
    attempts = {}
    for day in (1, 2, 3, 5, 7):
        cycle(case.opened_at + timedelta(days=day, hours=1))
        attempts[day] = PaymentAttempt.objects.filter(invoice=invoice).count()
    assert attempts == {1: 1, 2: 2, 3: 2, 5: 3, 7: 3}
    assert state(tenant) == ("past_due", "full")
    got = staff_client.get("dunning/policy").json()
    assert {k: got[k] for k in ("max_attempts", "retry_schedule", "grace_period_days")} == {
        "max_attempts": 2,
        "retry_schedule": [2, 5],
        "grace_period_days": 3,
    }


def test_put_policy_rejects_bad_input_and_changes_nothing(staff_client, tenant_admin_client):
    before = staff_client.get("dunning/policy").json()
    bad = staff_client.put("dunning/policy", {"retry_schedule": [5, 2]})
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert "retry_schedule" in bad.json()["errors"]
    assert staff_client.put("dunning/policy", {"max_attempts": "four"}).status_code == 400
    assert staff_client.get("dunning/policy").json() == before
    assert tenant_admin_client.get("dunning/policy").status_code == 403
    assert tenant_admin_client.put("dunning/policy", {"max_attempts": 1}).status_code == 403


@pytest.fixture
def two_declined(make_tenant, with_card, staff_client, django_capture_on_commit_callbacks):
    cases = []
    for _ in range(2):
        tenant = make_tenant()
        with_card(tenant, DECLINING_CARD)
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
            )
        assert response.status_code == 201
        cases.append(DunningCase.objects.get(tenant=tenant))
    return cases


class WorkerKilled(BaseException):
    pass


def test_a_worker_killed_mid_pass_resumes_without_a_double_retry_or_notice(
    two_declined, mailoutbox, django_capture_on_commit_callbacks
):
    now = max(c.opened_at for c in two_declined) + timedelta(days=1, hours=1)

    def die(case_id):
        raise WorkerKilled

    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        dunning_run(now=now, on_case_done=die)
    retried = [PaymentAttempt.objects.filter(invoice=c.invoice).count() for c in two_declined]
    assert sorted(retried) == [1, 2]  # the first case was retried, the second not yet
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(now=now)
        dunning_run(now=now + timedelta(minutes=5))
    for case in two_declined:
        assert PaymentAttempt.objects.filter(invoice=case.invoice).count() == 2
        (event,) = DunningEvent.objects.filter(case=case, kind="step")
        assert (event.key, event.done, event.notice_status) == ("day:1", True, "sent")
        reminders = [
            m for m in mailoutbox
            if m.subject.startswith("Payment reminder") and m.to == [case.tenant.email]
        ]  # fmt: skip
        assert len(reminders) == 1


def test_smtp_down_retries_the_notice_without_sending_twice(declined, settings, mailoutbox, cycle):
    tenant, invoice, case = declined
    settings.EMAIL_BACKEND = "dunning.tests.backends.SmtpDownBackend"
    day1 = case.opened_at + timedelta(days=1, hours=1)
    cycle(day1)
    event = DunningEvent.objects.get(case=case, key="day:1")
    assert event.notice_status == "pending"
    assert "SMTP server unreachable" in event.notice_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seen = len(mailoutbox)
    cycle(day1 + timedelta(minutes=30))
    cycle(day1 + timedelta(minutes=45))
    assert notices(mailoutbox, seen) == [event.notice_subject]
    event.refresh_from_db()
    assert (event.notice_status, event.notice_error) == ("sent", "")
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2
