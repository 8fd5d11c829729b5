"""Admin for the figures staff enter: acquisition spend per month and currency (CAC) and the
cost per subscriber-month of each plan (gross margin by plan). Saving goes through the same
services as `POST analytics/acquisition-spend` and `POST analytics/plan-costs`."""

from django import forms
from django.contrib import admin

from analytics import admin_monitoring  # noqa: F401  (the monitoring page)
from analytics.models import AcquisitionSpend, PlanCost
from analytics.services.insights import acquisition_spend_put, plan_cost_put
from billing_project.shared.admin import BillingAdmin
from billing_project.shared.clock import utcnow
from billing_project.shared.money import currency_exponent, format_money


class AcquisitionSpendForm(forms.ModelForm):
    class Meta:
        model = AcquisitionSpend
        fields = ["month", "currency", "amount", "note"]
        help_texts = {"month": "Any day of the month: stored as its first day."}

    def clean_currency(self):
        value = (self.cleaned_data["currency"] or "").lower()
        try:
            currency_exponent(value)
        except ValueError:
            raise forms.ValidationError("Unknown currency.") from None
        return value

    def clean_month(self):
        return self.cleaned_data["month"].replace(day=1)

    def validate_unique(self):
        # Entering a month again replaces it (the service's rule), so no uniqueness error.
        pass


@admin.register(AcquisitionSpend)
class AcquisitionSpendAdmin(BillingAdmin):
    form = AcquisitionSpendForm
    list_display = ["month_label", "currency", "spend", "note", "entered_by", "updated_at"]
    list_filter = ["currency"]
    ordering = ["-month", "currency"]
    money_fields = {"amount": "currency"}
    readonly_fields = ["entered_by", "created_at", "updated_at"]

    @admin.display(description="month", ordering="month")
    def month_label(self, obj):
        return obj.month.strftime("%Y-%m")

    @admin.display(description="spend", ordering="amount")
    def spend(self, obj):
        return format_money(obj.amount, obj.currency)

    def save_model(self, request, obj, form, change):
        row, _ = acquisition_spend_put(
            month=form.cleaned_data["month"],
            amount=form.cleaned_data["amount"],
            currency=form.cleaned_data["currency"],
            note=form.cleaned_data.get("note") or "",
            actor=f"staff:{request.user.username}",
            now=utcnow(),
        )
        if change and obj.pk != row.pk:
            AcquisitionSpend.objects.filter(pk=obj.pk).delete()  # moved to another month
        obj.pk = row.pk
        obj._state.adding = False


class PlanCostForm(forms.ModelForm):
    class Meta:
        model = PlanCost
        fields = ["plan", "amount", "note"]
        help_texts = {"amount": "Per subscriber per month, in the plan's currency."}


@admin.register(PlanCost)
class PlanCostAdmin(BillingAdmin):
    form = PlanCostForm
    list_display = ["plan", "cost", "margin_per_subscriber", "note", "updated_at"]
    readonly_fields = ["currency", "updated_at"]
    list_select_related = ["plan"]
    money_fields = {"amount": "plan__currency"}

    @admin.display(description="cost per subscriber-month", ordering="amount")
    def cost(self, obj):
        return format_money(obj.amount, obj.currency)

    @admin.display(description="plan fee - cost")
    def margin_per_subscriber(self, obj):
        if obj.currency != obj.plan.currency:
            return "-"
        return format_money(obj.plan.amount - obj.amount, obj.currency)

    def save_model(self, request, obj, form, change):
        plan = form.cleaned_data["plan"]
        if change:
            previous = PlanCost.objects.filter(pk=obj.pk).values_list("plan_id", flat=True).first()
            if previous is not None and previous != plan.pk:
                PlanCost.objects.filter(pk=obj.pk).delete()
        row, _ = plan_cost_put(
            plan=plan,
            amount=form.cleaned_data["amount"],
            currency=plan.currency,
            note=form.cleaned_data.get("note") or "",
            now=utcnow(),
        )
        obj.pk = row.pk
        obj._state.adding = False
