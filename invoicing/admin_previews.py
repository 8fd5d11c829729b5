"""Previews in the admin: the tenant and subscription pages show the upcoming invoice, and the
subscription page what a plan change would bill (`?preview_plan=<plan id>`), computed by the
same services as `GET invoices/upcoming` and `POST subscriptions/{id}/preview` (nothing stored).

The tenant and subscription admins are subscriptions'; invoicing (above it) registers them again
with the preview fields, as its API does for the endpoints that bill.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from billing_project.shared.money import format_money
from invoicing.services.previews import invoice_upcoming, subscription_change_preview
from subscriptions.admin import SubscriptionAdmin, TenantAdmin
from subscriptions.models import Plan, Subscription, Tenant


def _invoice_table(data: dict | None, *, title: str):
    if data is None:
        return format_html("<p><strong>{}</strong>: nothing would be owed.</p>", title)
    currency = data["currency"]
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td></tr>",
        (
            (
                line["kind"],
                line["description"],
                line["quantity"],
                format_money(line["amount"], currency),
            )
            for line in data["lines"]
        ),
    )
    totals = format_html_join(
        "",
        "<tr><th colspan='3' style='text-align:right'>{}</th>"
        "<th style='text-align:right'>{}</th></tr>",
        (
            (label, format_money(data[key], currency))
            for label, key in (
                ("Subtotal", "subtotal"),
                ("Discount", "discount"),
                ("Tax", "tax"),
                ("Total", "total"),
            )
        ),
    )
    return format_html(
        "<p><strong>{}</strong> ({} to {}, due {})</p>"
        "<table><thead><tr><th>kind</th><th>line</th><th>quantity</th><th>amount</th></tr>"
        "</thead><tbody>{}{}</tbody></table>",
        title,
        data["period_start"],
        data["period_end"],
        data["due_at"],
        rows,
        totals,
    )


def _upcoming(tenant_id):
    try:
        answer = invoice_upcoming(tenant_id=tenant_id, now=utcnow())
    except BillingError as exc:
        return exc.message
    return _invoice_table(answer["invoice"], title="Next invoice as it would be issued now")


admin.site.unregister(Tenant)
admin.site.unregister(Subscription)


@admin.register(Tenant)
class TenantWithPreviewAdmin(TenantAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "upcoming_invoice") if obj is not None else fields

    @admin.display(description="Upcoming invoice (preview, nothing stored)")
    def upcoming_invoice(self, obj):
        return _upcoming(obj.pk)


@admin.register(Subscription)
class SubscriptionWithPreviewAdmin(SubscriptionAdmin):
    readonly_fields = [*SubscriptionAdmin.readonly_fields, "upcoming_invoice", "plan_change"]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:  # per request: the admin instance is shared between requests
            obj.preview_plan_id = request.GET.get("preview_plan") or None
        return obj

    @admin.display(description="Upcoming invoice (preview, nothing stored)")
    def upcoming_invoice(self, obj):
        if not obj.is_live:
            return "The subscription is cancelled."
        return _upcoming(obj.tenant_id)

    @admin.display(description="Plan change preview")
    def plan_change(self, obj):
        if not obj.is_live:
            return "-"
        plans = Plan.objects.filter(active=True, currency=obj.plan.currency).exclude(pk=obj.plan_id)
        links = format_html_join(
            " | ", "<a href='?preview_plan={}'>{}</a>", ((p.pk, p.name) for p in plans)
        )
        wanted = getattr(obj, "preview_plan_id", None)
        try:
            plan = plans.filter(pk=wanted).first() if wanted else None
        except (ValueError, ValidationError):  # not a UUID
            plan = None
        if plan is None:
            return format_html("Preview a change to: {}", links)
        try:
            answer = subscription_change_preview(
                subscription=obj, plan=plan, prorate=True, now=utcnow(), actor="admin preview"
            )
        except BillingError as exc:
            return format_html("{}<br>Preview a change to: {}", exc.message, links)
        return format_html(
            "<p>Change to {}: {} effective {}</p>{}{}<p>Preview another: {}</p>",
            plan.name,
            answer["change"]["kind"],
            answer["change"]["effective_at"],
            _invoice_table(answer["proration_invoice"], title="Proration invoice"),
            _invoice_table(answer["next_invoice"], title="Next period invoice"),
            links,
        )
