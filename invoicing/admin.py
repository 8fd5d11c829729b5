"""Finance admin: invoices (filters, totals, actions calling the same services as the API),
credit notes, billing run failures (invoice settings: admin_settings.py)."""

import uuid

from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing_project.shared.admin import BillingAdmin, BillingTabularInline
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError, ValidationFailed
from billing_project.shared.money import format_money
from invoicing import (
    admin_finance,
    admin_previews,  # noqa: F401  (the tenant and subscription pages' previews)
    admin_settings,  # noqa: F401  (invoice settings)
    tax_reports,
)
from invoicing.models import (
    BillingRun,
    BillingRunFailure,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceSection,
    ManualPayment,
)
from invoicing.services import documents, lifecycle
from invoicing.services.cost_allocation import cost_allocation_csv, cost_allocation_report
from subscriptions.models import Tenant


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = Q(status="open", due_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class InvoiceSectionInline(BillingTabularInline):
    """A consolidated invoice's sections: one per child charge."""

    model = InvoiceSection
    extra = 0
    money_fields = {n: "invoice__currency" for n in ("subtotal", "discount", "tax", "total")}
    fields = ("position", "tenant", "source_kind", "period_start", "period_end", "subtotal",
              "discount", "tax", "total")  # fmt: skip
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class InvoiceLineInline(BillingTabularInline):
    model = InvoiceLine
    extra = 0
    money_fields = {"amount": "invoice__currency"}
    unit_price_fields = {"unit_price": "invoice__currency"}
    fields = (
        "section",
        "kind",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "period_start",
        "period_end",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ManualPaymentInline(BillingTabularInline):
    model = ManualPayment
    extra = 0
    money_fields = {"amount": "invoice__currency"}
    fields = ("amount", "method", "reference", "paid_on", "recorded_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CreditNoteInline(BillingTabularInline):
    model = CreditNote
    extra = 0
    money_fields = {"total": "currency"}
    fields = ("number", "total", "reason", "issued_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _run(modeladmin, request, queryset, label, action):
    done = failed = 0
    for invoice in queryset:
        try:
            action(invoice)
            done += 1
        except BillingError as exc:
            failed += 1
            modeladmin.message_user(request, f"{invoice}: {exc.message}", messages.WARNING)
    modeladmin.message_user(request, f"{label}: {done} done, {failed} refused.")


def _lifecycle_action(service, label: str, description: str):
    """An admin action that calls one lifecycle service per selected invoice, as the API does."""

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        now = timezone.now()
        _run(modeladmin, request, queryset, label,
             lambda invoice: service(invoice_id=invoice.pk, now=now))  # fmt: skip

    action.__name__ = service.__name__
    return action


@admin.register(Invoice)
class InvoiceAdmin(BillingAdmin):
    list_display = (
        "__str__",
        "tenant",
        "kind",
        "status",
        "total_display",
        "amount_due_display",
        "issued_at",
        "due_at",
        "pdf_status",
        "email_status",
    )
    list_filter = (
        "status",
        OverdueFilter,
        "kind",
        ("period_start", admin.DateFieldListFilter),
        "pdf_status",
        "email_status",
        "tenant",
    )
    search_fields = ("number", "tenant__name", "tenant__email", "id")
    date_hierarchy = "issued_at"
    list_select_related = ("tenant",)
    inlines = (InvoiceSectionInline, InvoiceLineInline, ManualPaymentInline, CreditNoteInline)
    actions = ("finalize", "void", "mark_uncollectible", "resend", "download_pdf")
    readonly_fields = [f.name for f in Invoice._meta.fields]
    money_fields = {
        name: "currency"
        for name in ("subtotal", "discount", "tax", "total", "amount_paid", "amount_credited",
                     "amount_due")
    }  # fmt: skip

    def has_add_permission(self, request):
        return False  # custom invoices go through POST invoices (validated service)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # finalized invoices never change; actions below call the services

    @admin.display(description="total")
    def total_display(self, obj):
        return format_money(obj.total, obj.currency)

    @admin.display(description="amount due")
    def amount_due_display(self, obj):
        return format_money(obj.amount_due, obj.currency)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        try:
            queryset = response.context_data["cl"].queryset
        except (AttributeError, KeyError):
            return response
        # What the list sums: the filtered invoices, void ones excluded (they are owed by no one).
        response.context_data["invoice_totals_voided"] = queryset.filter(status="void").count()
        rows = (
            queryset.exclude(status="void")
            .order_by()
            .values("currency")
            .annotate(
                n=Count("id"), total=Sum("total"), due=Sum("amount_due"), paid=Sum("amount_paid")
            )
        )
        response.context_data["invoice_totals"] = [
            {
                "currency": row["currency"].upper(),
                "count": row["n"],
                "total": format_money(row["total"] or 0, row["currency"]),
                "due": format_money(row["due"] or 0, row["currency"]),
                "paid": format_money(row["paid"] or 0, row["currency"]),
            }
            for row in rows
        ]
        return response

    change_list_template = "admin/invoicing/invoice/change_list.html"

    def get_urls(self):
        return [
            path(
                "tax-reports/",
                self.admin_site.admin_view(self.tax_report_view),
                name="invoicing_tax_reports",
            ),
            path(
                "finance-reports/",
                self.admin_site.admin_view(self.finance_reports_view),
                name="invoicing_finance_reports",
            ),
            path(
                "cost-allocation/",
                self.admin_site.admin_view(self.cost_allocation_view),
                name="invoicing_cost_allocation",
            ),
            *super().get_urls(),
        ]

    def finance_reports_view(self, request):
        return admin_finance.finance_reports_view(self.admin_site, request)

    def tax_report_view(self, request):
        """The OSS (quarter) and US (month) tax reports, as a table or a CSV download."""
        kind = request.GET.get("report", "oss")
        now = utcnow()
        default = f"{now.year}-Q{(now.month - 1) // 3 + 1}" if kind == "oss" else f"{now:%Y-%m}"
        period = request.GET.get("period") or default
        report, error = None, ""
        try:
            if kind == "us":
                report = tax_reports.us_report(month=period)
            else:
                kind, report = "oss", tax_reports.oss_report(quarter=period)
        except ValidationFailed as exc:
            error = exc.message
        if report is not None and request.GET.get("export") == "csv":
            response = HttpResponse(tax_reports.report_csv(report), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="tax-{kind}-{period}.csv"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Tax reports",
            "report_kind": kind,
            "period": period,
            "report": report,
            "error": error,
            "rows": [
                {
                    **row,
                    "taxable_display": format_money(row["taxable"], row["currency"]),
                    "tax_display": format_money(row["tax"], row["currency"]),
                }
                for row in (report or {}).get("rows", ())
            ],
        }
        return TemplateResponse(request, "admin/invoicing/tax_report.html", context)

    def cost_allocation_view(self, request):
        """A parent's consolidated invoices of a month split by its children's percentages
        (read-only), as a table or a CSV download."""
        parents = Tenant.objects.filter(children__isnull=False).distinct().order_by("name")
        tenant_id = request.GET.get("tenant") or ""
        period = request.GET.get("period") or f"{utcnow():%Y-%m}"
        tenant = parents.filter(pk=tenant_id).first() if _is_uuid(tenant_id) else None
        report, error = None, ""
        if tenant is not None:
            try:
                report = cost_allocation_report(tenant=tenant, period=period)
            except ValidationFailed as exc:
                error = exc.message
        if report is not None and request.GET.get("export") == "csv":
            response = HttpResponse(cost_allocation_csv(report), content_type="text/csv")
            name = f"cost-allocation-{tenant.pk}-{report['period']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        blocks = [
            {
                **block,
                "total_display": format_money(block["total"], block["currency"]),
                "rows": [
                    {
                        **row,
                        "amount_display": format_money(row["amount"], block["currency"]),
                        "sections_display": format_money(row["sections_total"], block["currency"]),
                    }
                    for row in block["allocations"]
                ],
            }
            for block in (report or {}).get("currencies", ())
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Cost allocation",
            "parents": parents,
            "tenant": tenant,
            "period": period,
            "report": report,
            "blocks": blocks,
            "error": error,
        }
        return TemplateResponse(request, "admin/invoicing/cost_allocation.html", context)

    finalize = _lifecycle_action(lifecycle.invoice_finalize, "Finalize", "Finalize selected drafts")
    void = _lifecycle_action(lifecycle.invoice_void, "Void", "Void selected invoices")
    mark_uncollectible = _lifecycle_action(
        lifecycle.invoice_mark_uncollectible,
        "Mark uncollectible",
        "Mark selected invoices uncollectible",
    )
    resend = _lifecycle_action(
        lifecycle.invoice_send, "Resend", "Resend selected invoices by email"
    )

    @admin.action(description="Download PDF (first selected)")
    def download_pdf(self, request, queryset):
        invoice = queryset.select_related("tenant").first()
        if invoice is None:
            return None
        response = HttpResponse(
            documents.invoice_pdf_get(invoice=invoice), content_type="application/pdf"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{invoice.number or invoice.pk}.pdf"'
        )
        return response


class CreditNoteLineInline(BillingTabularInline):
    model = CreditNoteLine
    extra = 0
    money_fields = {"amount": "credit_note__currency"}
    fields = ("description", "amount")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(BillingAdmin):
    money_fields = {"total": "currency", "tax": "currency"}
    list_display = ("number", "invoice", "tenant", "total", "reason", "issued_at", "pdf_status")
    search_fields = ("number", "invoice__number", "tenant__name")
    list_filter = ("pdf_status",)
    list_select_related = ("invoice", "tenant")
    inlines = (CreditNoteLineInline,)
    readonly_fields = [f.name for f in CreditNote._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingRunFailure)
class BillingRunFailureAdmin(BillingAdmin):
    list_display = ("at", "step", "subscription", "run_as_of", "resolved", "short_error")
    list_filter = ("step", "resolved")
    readonly_fields = ("subscription", "step", "run_as_of", "error", "at")
    fields = ("subscription", "step", "run_as_of", "at", "resolved", "error")

    def has_add_permission(self, request):
        return False

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error.strip().splitlines()[-1][:120] if obj.error else ""


@admin.register(BillingRun)
class BillingRunAdmin(BillingAdmin):
    """Each billing cycle run: counts, failures and invoice generation times (read-only)."""

    list_display = ("started_at", "finished_at", "as_of", "invoices", "failures",
                    "generation_ms_max", "generation_ms_total", "generated")  # fmt: skip
    readonly_fields = [f.name for f in BillingRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
