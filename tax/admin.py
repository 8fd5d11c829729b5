"""Finance edits the tax tables here: rates (a change is a new row with its `valid_from`) and
the seller's registrations (a new nexus state, a GST registration: rows, not code). New rows
are validated and created by the same services the tests use."""

from django import forms
from django.contrib import admin

from billing_project.shared.admin import BillingAdmin
from tax.models import TaxRate, TaxRegistration
from tax.services import (
    tax_rate_add,
    tax_rate_errors,
    tax_registration_add,
    tax_registration_errors,
)


def _add_errors(form, errors: dict) -> None:
    for name, problems in errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ("country", "region", "rate", "valid_from", "tax_name", "source")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            _add_errors(
                self,
                tax_rate_errors(
                    country=data.get("country", ""),
                    region=data.get("region", ""),
                    rate=data.get("rate"),
                    valid_from=data.get("valid_from"),
                ),
            )
        return data


class TaxRegistrationForm(forms.ModelForm):
    class Meta:
        model = TaxRegistration
        fields = (
            "country",
            "region",
            "kind",
            "tax_name",
            "tax_id",
            "valid_from",
            "valid_until",
            "notes",
        )

    def clean(self):
        data = super().clean()
        if not self.errors:
            _add_errors(
                self,
                tax_registration_errors(
                    country=data.get("country", ""),
                    region=data.get("region", ""),
                    kind=data.get("kind", ""),
                    valid_from=data.get("valid_from"),
                    valid_until=data.get("valid_until"),
                ),
            )
        return data


@admin.register(TaxRate)
class TaxRateAdmin(BillingAdmin):
    form = TaxRateForm
    list_display = ("country", "region", "rate", "valid_from", "tax_name", "source")
    list_filter = ("country", "tax_name")
    search_fields = ("country", "region", "source")
    date_hierarchy = "valid_from"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = tax_rate_add(**{name: form.cleaned_data[name] for name in form.Meta.fields})
        obj.pk = created.pk
        return None


@admin.register(TaxRegistration)
class TaxRegistrationAdmin(BillingAdmin):
    form = TaxRegistrationForm
    list_display = ("country", "region", "kind", "tax_name", "tax_id", "valid_from", "valid_until")
    list_filter = ("country", "kind")
    search_fields = ("country", "region", "tax_id")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = tax_registration_add(
            **{name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        obj.pk = created.pk
        return None
