"""Subscription pages with two actions, guarded by `subscriptions.change_subscription`:

- Apply coupon: `subscriptions.services.coupons.subscription_coupon_apply` (from the next billed
  period; one coupon per subscription).
- Change plan: first the preview (`invoicing.services.previews.subscription_change_preview`, what
  `POST subscriptions/{id}/preview` answers: the change, its proration invoice and the next
  invoice, nothing stored), then on confirmation the change itself
  (`invoicing.services.subscription_billing.subscription_change_plan_and_invoice`, what `PATCH
  subscriptions/{id} {plan_id, prorate}` calls).
"""

from django.contrib import admin, messages
from django.urls import path
from django.utils.html import format_html

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from billing_project.shared.money import format_money
from console.actions import ConsoleActionsMixin, actor_of, detail_action, error_text
from console.admin_mrr import mrr_view
from console.forms import CouponForm, PlanChangeForm
from invoicing.admin_previews import SubscriptionWithPreviewAdmin, _invoice_table
from invoicing.models import Invoice
from invoicing.services.previews import subscription_change_preview
from invoicing.services.subscription_billing import subscription_change_plan_and_invoice
from subscriptions.models import Plan, Subscription
from subscriptions.services.coupons import subscription_coupon_apply

PERMISSION = "subscriptions.change_subscription"

admin.site.unregister(Subscription)


def _preview_html(answer: dict, plan: Plan):
    change = answer["change"]
    return format_html(
        "<p><strong>Change to {}</strong>: {}, effective {}.</p>{}{}",
        plan.name,
        change["kind"].replace("_", " "),
        change["effective_at"] or "at once",
        _invoice_table(answer["proration_invoice"], title="Proration invoice (issued at once)"),
        _invoice_table(answer["next_invoice"], title="Next period invoice"),
    )


@admin.register(Subscription)
class ConsoleSubscriptionAdmin(ConsoleActionsMixin, SubscriptionWithPreviewAdmin):
    console_actions = ("change_plan", "apply_coupon")
    change_form_template = "console/change_form.html"

    def get_urls(self):
        # The dashboard's MRR figures link here (console/admin_mrr.py).
        mrr = path(
            "mrr/",
            self.admin_site.admin_view(lambda request: mrr_view(self, request)),
            name="subscriptions_subscription_mrr",
        )
        return [mrr, *super().get_urls()]

    @detail_action(
        label="Apply coupon", permission=PERMISSION, url_path="apply-coupon", icon="sell"
    )
    def apply_coupon(self, request, object_id):
        sub = self.action_object(request, object_id, "apply_coupon")
        intro = (
            f"{sub}: the coupon discounts the plan fee from the next period invoice, for its "
            "duration (one coupon per subscription)."
        )
        form = CouponForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            return self.action_page(
                request,
                sub,
                name="apply_coupon",
                form=form,
                intro=intro,
                submit="Apply coupon",
                status=400 if request.method == "POST" else 200,
            )

        def done(redemption):
            coupon = redemption.coupon
            off = (
                f"{coupon.percent_off}% off"
                if coupon.percent_off is not None
                else f"{format_money(coupon.amount_off, coupon.currency or sub.plan.currency)} off"
            )
            return (
                f"Coupon {coupon.code} ({off}, {coupon.duration}) applied from period "
                f"{redemption.first_period_index + 1}."
            )

        return self.action_run(
            request,
            sub,
            name="apply_coupon",
            form=form,
            intro=intro,
            done=done,
            run=lambda: subscription_coupon_apply(
                subscription=sub,
                code=form.cleaned_data["coupon_code"],
                now=utcnow(),
                actor=actor_of(request),
            ),
        )

    @detail_action(
        label="Change plan", permission=PERMISSION, url_path="change-plan", icon="swap_horiz"
    )
    def change_plan(self, request, object_id):
        sub = self.action_object(request, object_id, "change_plan")
        plans = Plan.objects.filter(active=True, currency=sub.plan.currency).exclude(pk=sub.plan_id)
        intro = (
            f"{sub} is on {sub.plan.name} ({format_money(sub.plan.amount, sub.plan.currency)}). "
            "An upgrade takes effect at once, a downgrade at the period end. The next page shows "
            "what the change would bill before anything is changed."
        )
        form = PlanChangeForm(request.POST or None, plans=plans)
        if request.method != "POST" or not form.is_valid():
            return self.action_page(
                request,
                sub,
                name="change_plan",
                form=form,
                intro=intro,
                submit="Preview",
                status=400 if request.method == "POST" else 200,
            )
        plan, prorate = form.cleaned_data["plan"], form.cleaned_data["prorate"]
        now, actor = utcnow(), actor_of(request)
        if request.POST.get("step") != "confirm":
            try:
                answer = subscription_change_preview(
                    subscription=sub, plan=plan, prorate=prorate, now=now, actor=actor
                )
            except BillingError as exc:
                messages.error(request, error_text(exc))
                return self.action_page(
                    request,
                    sub,
                    name="change_plan",
                    form=form,
                    intro=intro,
                    submit="Preview",
                    status=exc.status_code,
                )
            return self.action_page(
                request,
                sub,
                name="change_plan",
                submit="Confirm plan change",
                intro=f"Preview (nothing is stored yet): {sub.plan.name} to {plan.name}"
                f"{', prorated' if prorate else ', not prorated'}.",
                preview=_preview_html(answer, plan),
                hidden={"plan": plan.pk, "prorate": "on" if prorate else "", "step": "confirm"},
            )

        def done(result):
            fresh, change, invoice = result
            text = f"{change.kind.replace('_', ' ').capitalize()}: {change.from_plan} to "
            text += f"{change.to_plan}"
            if change.kind == "downgrade_scheduled":
                text += f", from {fresh.current_period_end:%Y-%m-%d}"
            if invoice is not None:
                invoice = Invoice.objects.get(pk=invoice.pk)
                text += (
                    f"; proration invoice {invoice.number} for "
                    f"{format_money(invoice.total, invoice.currency)}"
                )
            return text + "."

        return self.action_run(
            request,
            sub,
            name="change_plan",
            form=form,
            intro=intro,
            done=done,
            run=lambda: subscription_change_plan_and_invoice(
                subscription=sub, plan=plan, prorate=prorate, now=now, actor=actor
            ),
        )
