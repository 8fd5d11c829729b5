"""Invoice and credit-note pages with finance's actions, each calling the service the API calls
(the README's finance-console section has the table of actions, services and permissions):

- Record bank transfer: `lifecycle.invoice_payment_record` (`POST invoices/{id}/payments`),
  `invoicing.add_manualpayment` (the model a transfer is stored in).
- Issue credit note: `credit_notes.credit_note_create` (`POST invoices/{id}/credit-notes`),
  `invoicing.add_creditnote`.
- Finalize, void, resend: `lifecycle.invoice_finalize|invoice_void|invoice_send`
  (`POST invoices/{id}/finalize|void|send`), `invoicing.change_invoice`.
- Write off: `dunning.services.staff.invoice_write_off` (the invoice's dunning case is written
  off with it, else `POST invoices/{id}/mark-uncollectible`), `invoicing.change_invoice`.
- Retry payment now: `payments.services.collection.invoice_pay` (`POST invoices/{id}/pay`),
  `payments.add_paymentattempt`.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse

from billing_project.shared.clock import utcnow
from billing_project.shared.money import format_money
from console.actions import ConsoleActionsMixin, actor_of, detail_action
from console.forms import CreditNoteForm, TransferForm
from dunning.services.staff import invoice_write_off
from invoicing.admin import CreditNoteAdmin, InvoiceAdmin
from invoicing.models import CreditNote, Invoice
from invoicing.services import credit_notes, documents, lifecycle
from payments.services.collection import invoice_pay


def _due(invoice: Invoice) -> str:
    return format_money(invoice.amount_due, invoice.currency)


def _fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_related("tenant").get(pk=invoice.pk)


admin.site.unregister(Invoice)
admin.site.unregister(CreditNote)


@admin.register(Invoice)
class ConsoleInvoiceAdmin(ConsoleActionsMixin, InvoiceAdmin):
    console_actions = (
        "record_transfer",
        "issue_credit_note",
        "finalize_invoice",
        "void_invoice",
        "write_off_invoice",
        "resend_invoice",
        "retry_payment",
        "download_invoice_pdf",
    )
    change_form_template = "console/change_form.html"

    @detail_action(
        label="Record bank transfer",
        permission="invoicing.add_manualpayment",
        url_path="record-transfer",
        icon="account_balance",
    )
    def record_transfer(self, request, object_id):
        invoice = self.action_object(request, object_id, "record_transfer")
        make = lambda data=None: TransferForm(  # noqa: E731
            data, currency=invoice.currency, due=invoice.amount_due
        )
        intro = f"{invoice}: {_due(invoice)} due. A partial amount is allowed, more is refused."
        if request.method != "POST":
            return self.action_page(
                request,
                invoice,
                name="record_transfer",
                form=make(),
                intro=intro,
                submit="Record transfer",
            )
        form = make(request.POST)
        if not form.is_valid():
            return self.action_page(
                request,
                invoice,
                name="record_transfer",
                form=form,
                intro=intro,
                submit="Record transfer",
                status=400,
            )
        data = form.cleaned_data

        def done(result):
            ref = f" (ref {data['reference']})" if data["reference"] else ""
            return (
                f"Recorded a bank transfer of {format_money(data['amount'], result.currency)}"
                f"{ref} received on {data['received_on']}: {result} is {result.status}, "
                f"{_due(result)} due."
            )

        return self.action_run(
            request,
            invoice,
            name="record_transfer",
            form=form,
            intro=intro,
            done=done,
            run=lambda: lifecycle.invoice_payment_record(
                invoice_id=invoice.pk,
                amount=data["amount"],
                method="bank_transfer",
                reference=data["reference"],
                paid_on=data["received_on"],
                now=utcnow(),
                actor=actor_of(request),
            ),
        )

    @detail_action(
        label="Issue credit note",
        permission="invoicing.add_creditnote",
        url_path="credit-note",
        icon="receipt_long",
    )
    def issue_credit_note(self, request, object_id):
        invoice = self.action_object(request, object_id, "issue_credit_note")
        creditable = credit_notes.creditable_amount(invoice)
        intro = (
            f"{invoice}: total {format_money(invoice.total, invoice.currency)}, "
            f"{format_money(creditable, invoice.currency)} may still be credited. "
            "Tax is reversed in proportion."
        )
        form = CreditNoteForm(request.POST or None, currency=invoice.currency)
        if request.method != "POST" or not form.is_valid():
            status = 400 if request.method == "POST" else 200
            return self.action_page(
                request,
                invoice,
                name="issue_credit_note",
                form=form,
                intro=intro,
                submit="Issue credit note",
                status=status,
            )
        data = form.cleaned_data

        def done(note):
            self.log_addition(request, note, f"Issued for {invoice} ({data['reason']})")
            fresh = _fresh(invoice)
            return (
                f"Credit note {note.number} issued for {format_money(note.total, note.currency)}"
                f" (tax {format_money(note.tax, note.currency)}): {fresh} is {fresh.status}, "
                f"{_due(fresh)} due."
            )

        return self.action_run(
            request,
            invoice,
            name="issue_credit_note",
            form=form,
            intro=intro,
            done=done,
            run=lambda: credit_notes.credit_note_create(
                invoice_id=invoice.pk,
                lines=data["lines"],
                reason=data["reason"],
                now=utcnow(),
                actor=actor_of(request),
            ),
            redirect_to=lambda note: reverse("admin:invoicing_creditnote_change", args=[note.pk]),
        )

    def _confirmed(self, request, object_id, name, *, intro, run, done, submit):
        invoice = self.action_object(request, object_id, name)
        intro = intro(invoice)
        if request.method != "POST":
            return self.action_page(request, invoice, name=name, intro=intro, submit=submit)
        return self.action_run(
            request, invoice, name=name, intro=intro, run=lambda: run(invoice), done=done
        )

    @detail_action(
        label="Finalize",
        permission="invoicing.change_invoice",
        url_path="finalize-invoice",
        icon="task_alt",
    )
    def finalize_invoice(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "finalize_invoice",
            submit="Finalize",
            intro=lambda i: (
                f"Finalize the draft {i}: it gets its number, its tax and its PDF, "
                "and is sent to the tenant. Finalized invoices never change."
            ),
            run=lambda i: lifecycle.invoice_finalize(invoice_id=i.pk, now=utcnow()),
            done=lambda r: (
                f"Finalized as {r.number}: {format_money(r.total, r.currency)}, "
                f"due {r.due_at:%Y-%m-%d}."
                if r.due_at
                else f"Finalized as {r.number}."
            ),
        )

    @detail_action(
        label="Void",
        permission="invoicing.change_invoice",
        url_path="void-invoice",
        icon="block",
        danger=True,
    )
    def void_invoice(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "void_invoice",
            submit="Void invoice",
            intro=lambda i: (
                f"Void {i} ({_due(i)} due): it stays numbered, owes nothing and its "
                "ledger entries are reversed. An invoice with payments needs a credit note instead."
            ),
            run=lambda i: lifecycle.invoice_void(invoice_id=i.pk, now=utcnow()),
            done=lambda r: f"{r} is {r.status}.",
        )

    @detail_action(
        label="Write off",
        permission="invoicing.change_invoice",
        url_path="write-off",
        icon="money_off",
        danger=True,
    )
    def write_off_invoice(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "write_off_invoice",
            submit="Write off",
            intro=lambda i: (
                f"Write off {i}: {_due(i)} moves to bad debt and the invoice becomes "
                "uncollectible (its dunning case, if any, is written off with it)."
            ),
            run=lambda i: invoice_write_off(invoice_id=i.pk, now=utcnow(), actor=actor_of(request)),
            done=lambda r: f"{r} written off: {r.status}.",
        )

    @detail_action(
        label="Resend",
        permission="invoicing.change_invoice",
        url_path="resend-invoice",
        icon="forward_to_inbox",
    )
    def resend_invoice(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "resend_invoice",
            submit="Resend",
            intro=lambda i: f"Email {i} with its PDF to {i.tenant.email} again.",
            run=lambda i: lifecycle.invoice_send(invoice_id=i.pk, now=utcnow()),
            done=lambda r: f"{r} queued to be emailed to {_fresh(r).tenant.email}.",
        )

    @detail_action(
        label="Retry payment now",
        permission="payments.add_paymentattempt",
        url_path="retry-payment",
        icon="credit_card",
    )
    def retry_payment(self, request, object_id):
        def done(attempt):
            if attempt is None:
                return "Nothing to charge: the invoice owes nothing."
            outcome = f"payment attempt {attempt.number}: {attempt.status}"
            if attempt.failure_message or attempt.decline_code:
                outcome += f" ({attempt.decline_code or attempt.failure_code}: "
                outcome += f"{attempt.failure_message})"
            return outcome[0].upper() + outcome[1:] + "."

        return self._confirmed(
            request,
            object_id,
            "retry_payment",
            submit="Charge now",
            intro=lambda i: f"Charge {_due(i)} of {i} to {i.tenant}'s default card now.",
            run=lambda i: invoice_pay(invoice=i, now=utcnow()),
            done=done,
        )

    @detail_action(
        label="Download PDF",
        permission="invoicing.view_invoice",
        url_path="download-pdf",
        icon="download",
    )
    def download_invoice_pdf(self, request, object_id):
        invoice = self.action_object(request, object_id, "download_invoice_pdf")
        response = HttpResponse(documents.invoice_pdf_get(invoice=invoice), "application/pdf")
        name = invoice.number or f"draft-{str(invoice.pk)[:8]}"
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response


@admin.register(CreditNote)
class ConsoleCreditNoteAdmin(ConsoleActionsMixin, CreditNoteAdmin):
    console_actions = ("download_credit_note_pdf",)
    change_form_template = "console/change_form.html"

    @detail_action(
        label="Download PDF",
        permission="invoicing.view_creditnote",
        url_path="download-pdf",
        icon="download",
    )
    def download_credit_note_pdf(self, request, object_id):
        note = self.action_object(request, object_id, "download_credit_note_pdf")
        response = HttpResponse(documents.credit_note_pdf_get(note=note), "application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{note.number}.pdf"'
        return response
