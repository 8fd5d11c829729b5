"""The tenant page as the customer's whole story, and the actions on its standing.

Sections (unfold shows each as a tab): the customer's details (editable, saved through
`tenant_update` as before), standing (status and service level read-only, balance = the ledger's
receivable, AR aging, open dunning), subscriptions with the upcoming-invoice preview, invoices,
payments and credit notes, payment methods, dunning cases, current usage against limits,
contract and hierarchy, the statement (PDF / CSV) and a timeline of what happened.

Actions, guarded by `subscriptions.change_tenant`: suspend (`dunning.services.standing.
tenant_suspend`), restore (`tenant_restore`), cancel (`tenant_cancel`: the live subscription
ends now, with its final invoice). Status and service level change only through them (and
dunning), never by editing the fields.
"""

from datetime import date

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from billing_project.shared.money import format_money
from console import selectors
from console.actions import ConsoleActionsMixin, actor_of, detail_action
from console.forms import ReasonForm
from dunning.selectors import tenant_dunning_summary
from dunning.services.standing import tenant_cancel, tenant_restore, tenant_suspend
from invoicing.admin_previews import TenantWithPreviewAdmin
from invoicing.ar_reports import statement_csv as render_statement_csv
from invoicing.ar_reports import tenant_statement
from invoicing.models import CreditNote, Invoice, ManualPayment
from invoicing.services.statement_pdf import statement_pdf as render_statement_pdf
from payments.models import PaymentAttempt
from subscriptions.models import PaymentMethod, Subscription, Tenant
from subscriptions.selectors import contract_list
from usage.selectors import usage_current

PERMISSION = "subscriptions.change_tenant"
ROWS = 25

admin.site.unregister(Tenant)


def _table(headers, rows, *, empty="None."):
    rows = list(rows)
    if not rows:
        return format_html("<p class='console-empty'>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html(
        "<table class='console-table'><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        head,
        body,
    )


def _link(url_name, pk, text):
    return format_html("<a href='{}'>{}</a>", reverse(url_name, args=[pk]), text)


def _day(value):
    return f"{value:%Y-%m-%d}" if value else "—"


def _invoice_link(invoice):
    return _link("admin:invoicing_invoice_change", invoice.pk, invoice.number or "draft")


DETAILS = (
    "name",
    "email",
    "address_line1",
    "city",
    "country",
    "state",
    "postal_code",
    "vat_id",
    "timezone",
    "currency",
    "payment_terms",
    "tax_exempt",
    "tax_exempt_reason",
    "parent",
)
PANELS = {
    "Standing": ("status", "service_level", "balance", "aging", "dunning_summary"),
    "Subscriptions": ("subscriptions_panel", "upcoming_invoice"),
    "Invoices": ("invoices_panel",),
    "Payments and credit notes": ("payments_panel", "credit_notes_panel"),
    "Payment methods": ("payment_methods_panel",),
    "Dunning": ("dunning_panel",),
    "Usage": ("usage_panel",),
    "Contract and hierarchy": ("contract_panel", "hierarchy"),
    "Statement": ("statement_panel",),
    "Timeline": ("timeline_panel",),
}
PANEL_FIELDS = tuple(name for names in PANELS.values() for name in names)


@admin.register(Tenant)
class ConsoleTenantAdmin(ConsoleActionsMixin, TenantWithPreviewAdmin):
    console_actions = (
        "suspend_tenant",
        "restore_tenant",
        "cancel_tenant",
        "statement_pdf",
        "statement_csv",
    )
    change_form_template = "console/change_form.html"
    list_display = (
        "name",
        "email",
        "country",
        "status",
        "service_level",
        "balance_display",
        "currency",
        "payment_terms",
        "created_at",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), "status", "service_level")
        return (*fields, *PANEL_FIELDS) if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": DETAILS})]
        ids = (
            "id",
            "stripe_customer_id",
            "billing_consolidation",
            "payment_responsibility",
            "cost_allocation",
            "created_at",
            "updated_at",
        )
        return [
            ("Customer", {"fields": (*DETAILS, *ids), "classes": ["tab"]}),
            *((title, {"fields": names, "classes": ["tab"]}) for title, names in PANELS.items()),
        ]

    # --- the list ------------------------------------------------------------------------------

    @admin.display(description="balance")
    def balance_display(self, obj):
        balance = selectors.tenant_balance(tenant=obj)
        return ", ".join(format_money(v, c) for c, v in balance.items())

    # --- standing ------------------------------------------------------------------------------

    @admin.display(description="Balance (ledger receivable)")
    def balance(self, obj):
        balance = selectors.tenant_balance(tenant=obj)
        due = selectors.tenant_open_due(tenant=obj)
        return _table(
            ("Currency", "Receivable (ledger)", "Open invoices due"),
            (
                (
                    c.upper(),
                    format_html("<strong class='console-balance'>{}</strong>", format_money(v, c)),
                    format_money(due.get(c, 0), c),
                )
                for c, v in balance.items()
            ),
        )

    @admin.display(description="AR aging (days past due)")
    def aging(self, obj):
        rows = selectors.tenant_aging(tenant=obj, as_of=utcnow().date())
        headers = ("Currency", "Current", "1-30", "31-60", "61-90", "90+", "Total")
        return _table(
            headers,
            (
                (
                    r["currency"].upper(),
                    *(
                        format_money(r[k], r["currency"])
                        for k in (*selectors.AGING_BUCKETS, "total")
                    ),
                )
                for r in rows
            ),
            empty="Nothing open.",
        )

    @admin.display(description="Open dunning")
    def dunning_summary(self, obj):
        summary = tenant_dunning_summary(tenant_id=obj.pk)
        if not summary["open_cases"]:
            return "No open dunning case."
        amounts = ", ".join(format_money(v, c) for c, v in summary["amount_due"].items())
        return format_html(
            "{} open case(s), stage {}, {} at risk, next action {}",
            summary["open_cases"],
            summary["stage"],
            amounts,
            _day(summary["next_action_at"]),
        )

    # --- subscriptions, invoices, payments -----------------------------------------------------

    @admin.display(description="Subscriptions")
    def subscriptions_panel(self, obj):
        subs = (
            Subscription.objects.filter(tenant=obj)
            .select_related("plan", "pending_plan", "coupon_redemption__coupon")
            .order_by("-started_at")[:ROWS]
        )
        rows = []
        for s in subs:
            redemption = getattr(s, "coupon_redemption", None)
            notes = []
            if s.cancel_at_period_end:
                notes.append("cancels at period end")
            if s.pending_plan_id:
                notes.append(f"downgrade to {s.pending_plan} pending")
            if s.trial_end and s.status == "trialing":
                notes.append(f"trial to {_day(s.trial_end)}")
            rows.append(
                (
                    _link("admin:subscriptions_subscription_change", s.pk, s.plan.name),
                    format_money(s.plan.amount, s.plan.currency),
                    s.status,
                    f"{_day(s.current_period_start)} to {_day(s.current_period_end)}",
                    redemption.coupon.code if redemption else "—",
                    "; ".join(notes) or "—",
                )
            )
        return _table(("Plan", "Fee", "Status", "Current period", "Coupon", "Notes"), rows)

    @admin.display(description="Invoices (newest first)")
    def invoices_panel(self, obj):
        invoices = Invoice.objects.filter(tenant=obj).order_by("-created_at")[:ROWS]
        return _table(
            ("Number", "Kind", "Status", "Period", "Total", "Due", "Issued", "Due date"),
            (
                (
                    _invoice_link(i),
                    i.kind,
                    i.status,
                    f"{_day(i.period_start)} to {_day(i.period_end)}",
                    format_money(i.total, i.currency),
                    format_money(i.amount_due, i.currency),
                    _day(i.issued_at),
                    _day(i.due_at),
                )
                for i in invoices
            ),
        )

    @admin.display(description="Payments")
    def payments_panel(self, obj):
        manual = ManualPayment.objects.filter(invoice__tenant=obj).select_related("invoice")
        cards = PaymentAttempt.objects.filter(tenant=obj).select_related("invoice")
        rows = [
            (
                p.created_at,
                _invoice_link(p.invoice),
                p.get_method_display(),
                format_money(p.amount, p.invoice.currency),
                "recorded",
                p.reference or "—",
                _day(p.paid_on),
            )
            for p in manual.order_by("-created_at")[:ROWS]
        ] + [
            (
                a.created_at,
                _invoice_link(a.invoice),
                f"card (attempt {a.number})",
                format_money(a.amount, a.currency),
                a.status,
                a.decline_code or a.failure_code or a.stripe_payment_intent_id or "—",
                _day(a.created_at),
            )
            for a in cards.order_by("-created_at")[:ROWS]
        ]
        rows.sort(key=lambda row: row[0], reverse=True)
        return _table(
            ("Invoice", "Method", "Amount", "Status", "Reference", "Date"),
            (row[1:] for row in rows[:ROWS]),
        )

    @admin.display(description="Credit notes")
    def credit_notes_panel(self, obj):
        notes = CreditNote.objects.filter(tenant=obj).select_related("invoice")
        return _table(
            ("Number", "Invoice", "Total", "Reason", "Issued"),
            (
                (
                    _link("admin:invoicing_creditnote_change", n.pk, n.number),
                    _invoice_link(n.invoice),
                    format_money(n.total, n.currency),
                    n.reason,
                    _day(n.issued_at),
                )
                for n in notes.order_by("-issued_at")[:ROWS]
            ),
        )

    @admin.display(description="Payment methods")
    def payment_methods_panel(self, obj):
        methods = PaymentMethod.objects.filter(tenant=obj).order_by("-is_default", "created_at")
        return _table(
            ("Brand", "Last 4", "Expires", "Default"),
            (
                (
                    m.brand,
                    m.last4,
                    f"{m.exp_month:02d}/{m.exp_year}" if m.exp_month else "—",
                    "yes" if m.is_default else "",
                )
                for m in methods
            ),
            empty="No card: invoices are paid by transfer.",
        )

    @admin.display(description="Dunning cases")
    def dunning_panel(self, obj):
        return _table(
            ("Invoice", "Status", "Stage", "Opened", "Next action", "Closed"),
            (
                (
                    _link("admin:dunning_dunningcase_change", c.pk, c.invoice.number),
                    c.status,
                    c.stage,
                    _day(c.opened_at),
                    _day(c.next_action_at),
                    c.closed_reason or "—",
                )
                for c in selectors.tenant_cases(tenant=obj)[:ROWS]
            ),
        )

    @admin.display(description="Current usage against limits")
    def usage_panel(self, obj):
        try:
            usage = usage_current(tenant_id=obj.pk)
        except BillingError as exc:
            return exc.message
        rows = [
            (
                m.metric_type,
                f"{m.current.normalize():f}",
                f"{m.limit.normalize():f}",
                f"{m.overages.normalize():f}",
                format_money(m.overage_cost, usage.currency),
            )
            for m in usage.metrics
        ]
        return format_html(
            "<p>Period {} to {}; projected overage cost {}.</p>{}",
            _day(usage.period_start),
            _day(usage.period_end),
            format_money(usage.projected_overage_cost, usage.currency),
            _table(("Metric", "Current", "Included", "Over", "Overage cost"), rows),
        )

    @admin.display(description="Contract")
    def contract_panel(self, obj):
        contracts = contract_list(tenant_id=obj.pk)
        return _table(
            ("Contract", "From", "To", "Version"),
            (
                (
                    _link("admin:subscriptions_contract_change", c.pk, str(c.pk)[:8]),
                    c.start_date,
                    c.end_date,
                    c.version,
                )
                for c in contracts
            ),
            empty="No contract: the plan's prices apply.",
        )

    @admin.display(description="Statement")
    def statement_panel(self, obj):
        today = utcnow().date()
        start = today.replace(day=1)
        query = f"?from={start}&to={today}"
        return format_html(
            "Month to date ({} to {}): <a href='{}{}'>PDF</a> | <a href='{}{}'>CSV</a> | "
            "<a href='{}?report=statement&tenant_id={}'>on screen</a>",
            start,
            today,
            self.action_url("statement_pdf", obj),
            query,
            self.action_url("statement_csv", obj),
            query,
            reverse("admin:invoicing_finance_reports"),
            obj.pk,
        )

    @admin.display(description="Timeline (newest first)")
    def timeline_panel(self, obj):
        rows = []
        for item in selectors.tenant_timeline(tenant=obj):
            text = _link(item.url_name, item.url_arg, item.text) if item.url_name else item.text
            rows.append((f"{item.at:%Y-%m-%d %H:%M}", item.kind, text))
        return _table(("When (UTC)", "What", ""), rows, empty="Nothing yet.")

    # --- actions -------------------------------------------------------------------------------

    def _standing(self, request, object_id, name, *, intro, run, form_class=None, submit):
        tenant = self.action_object(request, object_id, name)
        form = form_class(request.POST or None) if form_class else None
        intro = intro(tenant)
        if request.method != "POST" or (form is not None and not form.is_valid()):
            status = 400 if request.method == "POST" else 200
            return self.action_page(
                request, tenant, name=name, form=form, intro=intro, submit=submit, status=status
            )

        def done(result):
            return f"{result} is {result.status}, service {result.service_level}."

        return self.action_run(
            request,
            tenant,
            name=name,
            form=form,
            intro=intro,
            done=done,
            run=lambda: run(tenant, form.cleaned_data if form else {}),
        )

    @detail_action(
        label="Suspend", permission=PERMISSION, url_path="suspend", icon="pause", danger=True
    )
    def suspend_tenant(self, request, object_id):
        return self._standing(
            request,
            object_id,
            "suspend_tenant",
            submit="Suspend",
            intro=lambda t: (
                f"Suspend {t}: status suspended, service degraded (its live "
                "subscription suspended). It holds until restored, or until dunning recomputes the "
                "tenant's status from its cases."
            ),
            run=lambda t, _: tenant_suspend(tenant_id=t.pk, now=utcnow(), actor=actor_of(request)),
        )

    @detail_action(label="Restore", permission=PERMISSION, url_path="restore", icon="restore")
    def restore_tenant(self, request, object_id):
        return self._standing(
            request,
            object_id,
            "restore_tenant",
            submit="Restore",
            intro=lambda t: (
                f"Restore {t}: back to the status its open dunning cases give "
                "(active and full service without any)."
            ),
            run=lambda t, _: tenant_restore(tenant_id=t.pk, now=utcnow(), actor=actor_of(request)),
        )

    @detail_action(
        label="Cancel", permission=PERMISSION, url_path="cancel", icon="cancel", danger=True
    )
    def cancel_tenant(self, request, object_id):
        return self._standing(
            request,
            object_id,
            "cancel_tenant",
            submit="Cancel the tenant",
            form_class=ReasonForm,
            intro=lambda t: (
                f"Cancel {t}: its live subscription ends now (a final invoice bills "
                "the period's usage so far), status cancelled, no service."
            ),
            run=lambda t, data: tenant_cancel(
                tenant_id=t.pk, reason=data["reason"], now=utcnow(), actor=actor_of(request)
            ),
        )

    def _statement(self, request, object_id, name):
        tenant = self.action_object(request, object_id, name)
        today = utcnow().date()

        def day(key, default):
            try:
                return date.fromisoformat(request.GET.get(key) or "")
            except ValueError:
                return default

        end = day("to", today)
        start = day("from", end.replace(day=1))
        return tenant, tenant_statement(
            tenant_id=tenant.pk, currency=tenant.currency, start=start, end=end
        )

    @detail_action(
        label="Statement PDF",
        permission="subscriptions.view_tenant",
        url_path="statement-pdf",
        icon="picture_as_pdf",
    )
    def statement_pdf(self, request, object_id):
        tenant, statement = self._statement(request, object_id, "statement_pdf")
        response = HttpResponse(render_statement_pdf(statement, tenant), "application/pdf")
        name = f"statement-{tenant.pk}-{statement['from']}-{statement['to']}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @detail_action(
        label="Statement CSV",
        permission="subscriptions.view_tenant",
        url_path="statement-csv",
        icon="table_view",
    )
    def statement_csv(self, request, object_id):
        tenant, statement = self._statement(request, object_id, "statement_csv")
        response = HttpResponse(render_statement_csv(statement), content_type="text/csv")
        name = f"statement-{tenant.pk}-{statement['from']}-{statement['to']}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
