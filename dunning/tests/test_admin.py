"""The dunning admin: cases read-only with their timeline and schedule, staff actions through the
services, policies and their steps editable, per-tenant policies, decline codes, recovery page."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from dunning.models import (
    DeclineCode,
    DunningCase,
    DunningEvent,
    DunningPolicy,
    DunningStep,
    TenantDunningPolicy,
)
from dunning.selectors import policy_for_tenant
from invoicing.models import Invoice
from invoicing.serializers import iso
from invoicing.services.lifecycle import invoice_payment_record
from payments.models import PaymentAttempt
from subscriptions.tests.test_catalog_admin import form_data, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]

CASES = "/admin/dunning/dunningcase/"


@pytest.fixture
def admin_web():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def act(admin_web, action, *cases):
    return admin_web.post(
        CASES, {"action": action, "_selected_action": [str(c.pk) for c in cases]}, follow=True
    )


def test_changelist_lists_filters_and_searches(admin_web, declined):
    tenant, invoice, case = declined
    page = admin_web.get(CASES)
    assert page.status_code == 200
    body = page.content.decode()
    assert tenant.name in body and invoice.number in body and "$50.00" in body
    assert f"{CASES}recovery/" in body
    assert list(page.context["cl"].result_list) == [case]
    assert admin_web.get(CASES, {"q": invoice.number}).context["cl"].result_count == 1
    assert admin_web.get(CASES, {"q": tenant.name}).context["cl"].result_count == 1
    assert admin_web.get(CASES, {"q": "no-such-thing"}).context["cl"].result_count == 0
    assert admin_web.get(CASES, {"status__exact": "open"}).context["cl"].result_count == 1
    assert admin_web.get(CASES, {"status__exact": "paused"}).context["cl"].result_count == 0
    assert admin_web.get(CASES, {"stage__exact": "grace"}).context["cl"].result_count == 1
    policy = case.policy_id
    assert admin_web.get(CASES, {"policy__id__exact": policy}).context["cl"].result_count == 1
    # Never added or deleted by hand.
    assert admin_web.get(f"{CASES}add/").status_code == 403
    assert admin_web.get(f"{CASES}{case.pk}/delete/").status_code == 403
    actions = {name for name, _ in page.context["action_form"].fields["action"].choices}
    assert "delete_selected" not in actions
    assert {"pause", "resume", "retry", "write_off"} <= actions


def test_change_view_is_read_only_with_timeline_and_schedule(admin_web, declined):
    _, invoice, case = declined
    page = admin_web.get(f"{CASES}{case.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    (timeline,) = page.context["inline_admin_formsets"]
    assert not timeline.has_add_permission and not timeline.has_delete_permission
    events = list(DunningEvent.objects.filter(case=case).order_by("at", "id"))
    assert events and [f.instance for f in timeline.formset.forms] == events
    body = page.content.decode()
    for event in events:
        assert event.key in body
    # The schedule: the default policy's days, each scheduled, with the first one's due time.
    assert '<table class="dunning-schedule">' in body  # rendered, not escaped
    assert body.count("<td>scheduled</td>") == 5
    assert f"{CASES}{case.pk}/act/pause/" in body  # the buttons
    assert "retry, email:reminder" in body
    assert iso(case.next_action_at) in body  # day 1's due time, the next action
    # The buttons offered for an open case.
    assert page.context["case_actions"] == [
        ("pause", "Pause"),
        ("retry", "Retry now"),
        ("write_off", "Write off"),
    ]


def test_pause_resume_and_write_off_go_through_the_services(admin_web, declined):
    tenant, invoice, case = declined
    response = act(admin_web, "pause", case)
    assert "Pause: 1 case(s)." in messages_of(response)
    case.refresh_from_db()
    assert case.status == "paused" and case.next_action_at is None
    event = DunningEvent.objects.get(case=case, kind="paused")
    assert event.actor == "staff:boss"

    # The change page's buttons: resume is offered for a paused case.
    page = admin_web.get(f"{CASES}{case.pk}/change/")
    assert page.context["case_actions"] == [
        ("resume", "Resume"),
        ("retry", "Retry now"),
        ("write_off", "Write off"),
    ]
    assert admin_web.get(f"{CASES}{case.pk}/act/resume/").status_code == 405
    response = admin_web.post(f"{CASES}{case.pk}/act/resume/", follow=True)
    assert response.redirect_chain[-1][0] == f"{CASES}{case.pk}/change/"
    assert "Resume: done." in messages_of(response)
    case.refresh_from_db()
    assert case.status == "open" and case.next_action_at is not None

    response = act(admin_web, "write_off", case)
    assert "Write off: 1 case(s)." in messages_of(response)
    case.refresh_from_db()
    assert (case.status, case.closed_reason) == ("written_off", "written off")
    assert Invoice.objects.get(pk=invoice.pk).status == "uncollectible"

    # A refusal comes back as an error message; the case is unchanged.
    response = act(admin_web, "pause", case)
    assert messages_of(response) == [
        f"{case}: Cannot pause a dunning case whose status is written_off."
    ]
    response = admin_web.post(f"{CASES}{case.pk}/act/retry/", follow=True)
    assert messages_of(response) == [
        f"{case}: Cannot retry a dunning case whose status is written_off."
    ]
    case.refresh_from_db()
    assert case.status == "written_off"
    assert admin_web.post(f"{CASES}{case.pk}/act/nope/").status_code == 403


def test_retry_now_charges_the_card(admin_web, declined):
    _, invoice, case = declined
    response = act(admin_web, "retry", case)
    assert "Retry now: 1 case(s)." in messages_of(response)
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2
    event = DunningEvent.objects.get(case=case, kind="retry")
    assert (event.actor, event.done, event.attempt.number) == ("staff:boss", True, 2)
    assert event.outcome == "attempt 2: failed"


def test_policy_steps_edit_through_the_inline(admin_web, declined):
    _, _, case = declined
    policy = case.policy
    url = f"/admin/dunning/dunningpolicy/{policy.pk}/change/"
    page = admin_web.get(url)
    assert page.status_code == 200
    data = form_data(page)
    (steps,) = page.context["inline_admin_formsets"]
    prefix = steps.formset.prefix
    days = {data[f"{prefix}-{i}-day"]: i for i in range(len(steps.formset.forms))}
    assert sorted(days) == [1, 3, 7, 14, 30]
    first, third = days[1], days[3]
    data[f"{prefix}-{first}-day"] = 2
    data.pop(f"{prefix}-{third}-retry")  # unchecked
    data[f"{prefix}-{days[30]}-mark_uncollectible"] = "on"
    data["grace_period_days"] = 5
    before = utcnow()
    response = admin_web.post(url, data, follow=True)
    assert response.status_code == 200
    assert not response.context.get("errors"), response.context.get("errors")
    rows = {
        s.day: (s.retry, s.notice, s.mark_uncollectible)
        for s in DunningStep.objects.filter(policy=policy)
    }
    assert rows == {
        2: (True, "reminder", False),
        3: (False, "reminder", False),
        7: (True, "suspension_warning", False),
        14: (True, "suspended", False),
        30: (False, "cancelled", True),
    }
    policy.refresh_from_db()
    assert policy.grace_period_days == 5 and policy.updated_at >= before
    # The open case is looked at by the next pass (as after PUT dunning/policy).
    case.refresh_from_db()
    assert case.next_action_at >= before
    # A step outside 1..365 is refused on the form.
    data[f"{prefix}-{first}-day"] = 0
    response = admin_web.post(url, data)
    assert response.status_code == 200
    assert "Must be between 1 and 365." in response.content.decode()
    assert DunningStep.objects.filter(policy=policy, day=2).exists()


def test_new_policy_assigned_to_a_tenant(admin_web, declined, make_tenant):
    assert admin_web.get("/admin/dunning/dunningpolicy/").status_code == 200
    page = admin_web.get("/admin/dunning/dunningpolicy/add/")
    assert page.status_code == 200
    data = form_data(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data.update(
        {
            "name": "Gentle",
            "grace_period_days": 7,
            "max_attempts": 1,
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-0-day": 10,
            f"{prefix}-0-retry": "on",
            f"{prefix}-0-notice": "reminder",
        }
    )
    response = admin_web.post("/admin/dunning/dunningpolicy/add/", data, follow=True)
    assert response.status_code == 200
    gentle = DunningPolicy.objects.get(name="Gentle")
    assert gentle.created_at is not None and not gentle.is_default
    assert [(s.day, s.retry, s.notice) for s in gentle.steps.all()] == [(10, True, "reminder")]

    other = make_tenant(name="Gentle Corp")
    response = admin_web.post(
        "/admin/dunning/tenantdunningpolicy/add/",
        {"tenant": str(other.pk), "policy": str(gentle.pk)},
        follow=True,
    )
    assert response.status_code == 200
    assert TenantDunningPolicy.objects.get(tenant=other).policy == gentle
    assert policy_for_tenant(tenant_id=other.pk) == gentle
    assert admin_web.get("/admin/dunning/tenantdunningpolicy/").status_code == 200
    page = admin_web.get(f"/admin/dunning/tenantdunningpolicy/{other.pk}/change/")
    assert page.status_code == 200 and "tenant" in page.context["adminform"].readonly_fields
    # A policy cases use cannot be deleted (they keep it).
    default = DunningPolicy.objects.get(is_default=True)
    assert admin_web.get(f"/admin/dunning/dunningpolicy/{default.pk}/delete/").status_code == 403


def test_decline_code_kind_is_editable(admin_web, declined):
    assert admin_web.get("/admin/dunning/declinecode/").status_code == 200
    code = DeclineCode.objects.get(code="insufficient_funds")
    assert code.kind == "soft"
    url = f"/admin/dunning/declinecode/{code.pk}/change/"
    page = admin_web.get(url)
    assert "code" in page.context["adminform"].readonly_fields
    response = admin_web.post(url, {**form_data(page), "kind": "hard"}, follow=True)
    assert response.status_code == 200
    code.refresh_from_db()
    assert code.kind == "hard"


def test_recovery_page_shows_the_figures(admin_web, declined, django_capture_on_commit_callbacks):
    _, invoice, case = declined
    url = f"{CASES}recovery/"
    page = admin_web.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert page.context["figures"]["open_cases"] == 1
    assert page.context["at_risk"] == [{"currency": "USD", "cases": 1, "amount": "$50.00"}]
    assert page.context["recovered"] == [] and page.context["recovery_rate"] == "—"
    assert "$50.00" in body and "Nothing recovered yet this month." in body

    act(admin_web, "pause", case)
    assert admin_web.get(url).context["figures"]["paused_cases"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        invoice_payment_record(
            invoice_id=invoice.pk,
            amount=5000,
            method="bank_transfer",
            paid_on=date.today(),
            now=utcnow(),
        )
    assert DunningCase.objects.get(pk=case.pk).status == "recovered"
    page = admin_web.get(url)
    figures = page.context["figures"]
    assert (figures["open_cases"], figures["paused_cases"]) == (0, 0)
    assert page.context["at_risk"] == []
    assert page.context["recovered"] == [{"currency": "USD", "cases": 1, "amount": "$50.00"}]
    assert page.context["recovered_count"] == 1
    assert page.context["recovery_rate"] == "100.0%"
    body = page.content.decode()
    assert "100.0%" in body and "Nothing at risk." in body
