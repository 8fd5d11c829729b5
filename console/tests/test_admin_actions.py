"""Finance's actions in the admin (Django's test client): each calls the API's service, shows
its result (or its refusal) as a message, writes a LogEntry, and needs its model permission."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from billing_project.shared.clock import utcnow
from billing_project.shared.money import format_money
from console.tests.helpers import billed, failed_collection
from dunning.models import DunningCase
from invoicing.models import CreditNote, Invoice, ManualPayment
from invoicing.services.custom import CustomLine, invoice_custom_create
from invoicing.tests.conftest import plan
from ledger.selectors import receivable_for_tenant
from subscriptions.models import CouponRedemption
from subscriptions.services.coupons import coupon_create

pytestmark = pytest.mark.django_db

INVOICES = "/admin/invoicing/invoice/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def boss():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def staff_with(*perms):
    name = f"clerk{get_user_model().objects.count()}"
    user = get_user_model().objects.create_user(name, f"{name}@leanvibe.example", "pw")
    user.is_staff = True
    user.save()
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


def logged(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(object_id=str(obj.pk))
        .order_by("action_time", "id")
        .values_list("change_message", flat=True)
    )


# --- invoices ---------------------------------------------------------------------------------


def test_record_a_bank_transfer_partial_then_in_full(
    boss, tenant, django_capture_on_commit_callbacks
):
    _, invoice = billed(tenant)
    failed_collection(invoice)
    url = f"{INVOICES}{invoice.pk}/record-transfer/"
    page = boss.get(url)
    assert page.status_code == 200 and "$50.00 due" in page.content.decode()
    today = utcnow().date().isoformat()
    response = boss.post(
        url, {"amount": "20.00", "received_on": today, "reference": "W-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"{INVOICES}{invoice.pk}/change/"
    assert messages_of(response) == [
        f"Recorded a bank transfer of $20.00 (ref W-1) received on {today}: {invoice.number} "
        "is open, $30.00 due."
    ]
    over = boss.post(url, {"amount": "30.01", "received_on": today})
    assert over.status_code == 400
    assert "Amount 3001 exceeds the amount due (3000)." in messages_of(over)[0]
    bad = boss.post(url, {"amount": "1.005", "received_on": today})
    assert bad.status_code == 400 and "At most 2 decimals" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = boss.post(
            url, {"amount": "30", "received_on": today, "reference": "W-2"}, follow=True
        )
    assert "is paid, $0.00 due." in messages_of(done)[0]
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.amount_paid == 5000
    assert ManualPayment.objects.filter(invoice=invoice).count() == 2
    assert DunningCase.objects.get(invoice=invoice).status == "recovered"
    assert receivable_for_tenant(tenant_id=tenant.pk) == {"usd": 0}
    assert len(logged(invoice)) == 2 and logged(invoice)[0].startswith("Record bank transfer")
    closed = boss.post(url, {"amount": "1", "received_on": today})
    assert closed.status_code == 409
    assert messages_of(closed) == ["Cannot record a payment on an invoice whose status is paid."]


def test_issue_a_credit_note_and_download_its_pdf(boss, tenant):
    _, invoice = billed(tenant)
    url = f"{INVOICES}{invoice.pk}/credit-note/"
    assert "$50.00 may still be credited" in boss.get(url).content.decode()
    response = boss.post(url, {"reason": "goodwill", "line_1_description": "Outage credit",
                               "line_1_amount": "10.00"}, follow=True)  # fmt: skip
    note = CreditNote.objects.get(invoice=invoice)
    assert response.redirect_chain[-1][0] == f"/admin/invoicing/creditnote/{note.pk}/change/"
    assert messages_of(response) == [
        f"Credit note {note.number} issued for $10.00 (tax $0.00): {invoice.number} is open, "
        "$40.00 due."
    ]
    assert f"/admin/invoicing/creditnote/{note.pk}/download-pdf/" in response.content.decode()
    pdf = boss.get(f"/admin/invoicing/creditnote/{note.pk}/download-pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert logged(invoice) == [f"Issue credit note: {messages_of(response)[0]}"]
    assert logged(note) == [f"Issued for {invoice.number} (goodwill)"]
    too_much = boss.post(url, {"reason": "x", "line_1_description": "all",
                               "line_1_amount": "40.01"})  # fmt: skip
    assert too_much.status_code == 400
    assert "exceeds the creditable amount" in messages_of(too_much)[0]
    half = boss.post(url, {"reason": "x", "line_1_description": "a"})
    assert half.status_code == 400 and CreditNote.objects.count() == 1


def test_void_write_off_resend_and_their_refusals(boss, tenant, other_tenant):
    _, invoice = billed(tenant)
    page = boss.get(f"{INVOICES}{invoice.pk}/change/").content.decode()
    for path in ("record-transfer", "credit-note", "void-invoice", "write-off", "resend-invoice",
                 "retry-payment", "download-pdf"):  # fmt: skip
        assert f"{INVOICES}{invoice.pk}/{path}/" in page, path
    resent = boss.post(f"{INVOICES}{invoice.pk}/resend-invoice/", follow=True)
    assert messages_of(resent) == [f"{invoice.number} queued to be emailed to {tenant.email}."]
    voided = boss.post(f"{INVOICES}{invoice.pk}/void-invoice/", follow=True)
    assert messages_of(voided) == [f"{invoice.number} is void."]
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    again = boss.post(f"{INVOICES}{invoice.pk}/write-off/")
    assert again.status_code == 409
    assert messages_of(again) == ["Cannot mark uncollectible an invoice whose status is void."]
    _, other = billed(other_tenant)
    written = boss.post(f"{INVOICES}{other.pk}/write-off/", follow=True)
    assert messages_of(written) == [f"{other.number} written off: uncollectible."]
    assert [m.split(":")[0] for m in logged(invoice)] == ["Resend", "Void"]


def test_retry_payment_now_shows_the_services_refusal(boss, tenant):
    _, invoice = billed(tenant)
    response = boss.post(f"{INVOICES}{invoice.pk}/retry-payment/")
    assert response.status_code == 409
    assert messages_of(response) == [
        "Card payments are disabled: this deployment collects payments manually."
    ]
    assert logged(invoice) == []


def test_finalize_a_draft_custom_invoice(boss, tenant):
    draft = invoice_custom_create(
        tenant_id=tenant.pk,
        data={"line_items": [CustomLine("Setup", Decimal(1), Decimal(25000), 25000)]},
        now=utcnow(),
    )  # fmt: skip
    assert draft.status == "draft"
    page = boss.get(f"{INVOICES}{draft.pk}/finalize-invoice/")
    assert "Finalize the draft" in page.content.decode()
    response = boss.post(f"{INVOICES}{draft.pk}/finalize-invoice/", follow=True)
    draft.refresh_from_db()
    assert draft.status == "open" and draft.number
    assert messages_of(response)[0].startswith(f"Finalized as {draft.number}: $250.00")


def test_each_action_needs_its_permission(tenant):
    _, invoice = billed(tenant)
    viewer = staff_with("invoicing.view_invoice")
    page = viewer.get(f"{INVOICES}{invoice.pk}/change/")
    assert page.status_code == 200
    assert "record-transfer" not in page.content.decode()
    for path in ("record-transfer", "credit-note", "void-invoice", "write-off", "retry-payment"):
        assert viewer.post(f"{INVOICES}{invoice.pk}/{path}/").status_code == 403, path
    assert viewer.get(f"{INVOICES}{invoice.pk}/download-pdf/").status_code == 200
    clerk = staff_with("invoicing.view_invoice", "invoicing.add_manualpayment")
    page = clerk.get(f"{INVOICES}{invoice.pk}/change/").content.decode()
    assert "record-transfer" in page and "void-invoice" not in page
    today = utcnow().date().isoformat()
    ok = clerk.post(f"{INVOICES}{invoice.pk}/record-transfer/", {"amount": "50",
                                                                 "received_on": today})  # fmt: skip
    assert ok.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


# --- subscriptions ----------------------------------------------------------------------------


def test_change_plan_shows_the_preview_before_confirming(boss, tenant):
    sub, _ = billed(tenant, "team")
    url = f"/admin/subscriptions/subscription/{sub.pk}/change-plan/"
    enterprise = plan("enterprise")
    invoices = Invoice.objects.count()
    preview = boss.post(url, {"plan": enterprise.pk, "prorate": "on"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Preview (nothing is stored yet): Team to Enterprise, prorated." in html
    assert "Proration invoice (issued at once)" in html and "$800.00" in html
    assert 'name="step" value="confirm"' in html
    sub.refresh_from_db()
    assert sub.plan.slug == "team" and Invoice.objects.count() == invoices
    done = boss.post(url, {"plan": enterprise.pk, "prorate": "on", "step": "confirm"}, follow=True)
    sub.refresh_from_db()
    assert sub.plan.slug == "enterprise"
    proration = Invoice.objects.get(subscription=sub, kind="proration")
    assert messages_of(done) == [
        f"Upgraded: Team to Enterprise; proration invoice {proration.number} for "
        f"{format_money(proration.total, 'usd')}."
    ]
    same = boss.post(url, {"plan": enterprise.pk, "prorate": "on"})
    assert same.status_code == 400  # the current plan is not offered: a form error
    downgrade = boss.post(url, {"plan": plan("developer").pk, "step": "confirm"}, follow=True)
    assert messages_of(downgrade)[0].startswith("Downgrade scheduled: Enterprise to Developer")
    assert [m.split(":")[0] for m in logged(sub)] == ["Change plan", "Change plan"]


def test_apply_a_coupon(boss, tenant):
    sub, _ = billed(tenant)
    coupon_create(code="SPRING", percent_off=20, duration="repeating", duration_in_months=3,
                  now=utcnow())  # fmt: skip
    url = f"/admin/subscriptions/subscription/{sub.pk}/apply-coupon/"
    unknown = boss.post(url, {"coupon_code": "WINTER"})
    assert unknown.status_code == 400
    assert messages_of(unknown) == ["Unknown coupon code 'WINTER'. coupon_code: unknown"]
    done = boss.post(url, {"coupon_code": "spring"}, follow=True)
    assert messages_of(done) == ["Coupon SPRING (20.00% off, repeating) applied from period 2."]
    assert CouponRedemption.objects.get(subscription=sub).first_period_index == 1
    assert logged(sub)[0].startswith("Apply coupon: Coupon SPRING")


# --- dunning ----------------------------------------------------------------------------------


def test_pause_and_resume_a_dunning_case(boss, tenant):
    _, invoice = billed(tenant)
    _, case = failed_collection(invoice)
    url = f"/admin/dunning/dunningcase/{case.pk}/"
    assert f"{url}pause-dunning/" in boss.get(f"{url}change/").content.decode()
    assert "Pause dunning on" in boss.get(f"{url}pause-dunning/").content.decode()
    paused = boss.post(f"{url}pause-dunning/", follow=True)
    assert messages_of(paused) == [f"The case of {invoice.number} is paused (stage grace)."]
    again = boss.post(f"{url}pause-dunning/", follow=True)  # holds already: unchanged
    assert DunningCase.objects.get(pk=case.pk).status == "paused"
    assert again.status_code == 200
    resumed = boss.post(f"{url}resume-dunning/", follow=True)
    assert messages_of(resumed)[0].startswith(f"The case of {invoice.number} is open")
    button = boss.post(f"{url}act/pause/", follow=True)
    assert messages_of(button) == ["Pause: done."]
    assert [m.split(":")[0] for m in logged(case)] == [
        "Pause dunning",
        "Pause dunning",
        "Resume dunning",
        "Pause",
    ]
    viewer = staff_with("dunning.view_dunningcase")
    assert viewer.post(f"{url}resume-dunning/").status_code == 403
    assert viewer.post(f"{url}act/resume/").status_code == 403


def test_dunning_write_off_from_the_invoice_closes_the_case(boss, tenant):
    _, invoice = billed(tenant, days_ago=1)
    _, case = failed_collection(invoice, now=utcnow() - timedelta(days=5))
    boss.post(f"{INVOICES}{invoice.pk}/write-off/")
    case.refresh_from_db()
    assert case.status == "written_off"
