"""The console's action forms. Amounts are typed in major units (`250.00`) and handed to the
services in minor units, with the currency's exponent (more decimals than it has: refused)."""

from datetime import date
from decimal import Decimal

from django import forms

from billing_project.shared.forms import MoneyField as SharedMoneyField
from billing_project.shared.money import currency_exponent

CREDIT_NOTE_LINES = 3


class MoneyField(SharedMoneyField):
    """A positive amount in the form's currency -> integer minor units (a plain text input: the
    action pages are the console's own templates)."""

    def __init__(self, *, currency: str, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        super().__init__(currency=currency, positive=True, **kwargs)


class TransferForm(forms.Form):
    received_on = forms.DateField(
        label="Received on", widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(max_length=200, required=False, help_text="e.g. the bank's ref")

    def __init__(self, *args, currency: str, due: int, **kwargs):
        super().__init__(*args, **kwargs)
        exponent = currency_exponent(currency)
        amount = MoneyField(currency=currency, help_text=f"In {currency.upper()}: at most the due")
        amount.initial = f"{Decimal(due).scaleb(-exponent):.{exponent}f}"
        self.fields = {"amount": amount, **self.fields}
        self.fields["received_on"].initial = date.today()


class CreditNoteForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, CREDIT_NOTE_LINES + 1):
            self.fields[f"line_{i}_description"] = forms.CharField(
                label=f"Line {i}: description", max_length=500, required=i == 1
            )
            self.fields[f"line_{i}_amount"] = MoneyField(
                label=f"Line {i}: amount", currency=currency, required=i == 1
            )

    def clean(self):
        data = super().clean()
        lines = []
        for i in range(1, CREDIT_NOTE_LINES + 1):
            text, amount = data.get(f"line_{i}_description"), data.get(f"line_{i}_amount")
            if bool(text) != bool(amount) and f"line_{i}_amount" not in self.errors:
                raise forms.ValidationError(f"Line {i} needs both a description and an amount.")
            if text and amount:
                lines.append({"description": text, "amount": amount})
        data["lines"] = lines
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CouponForm(forms.Form):
    coupon_code = forms.CharField(label="Coupon code", max_length=64)


class PlanChangeForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=None, empty_label=None)
    prorate = forms.BooleanField(
        required=False, initial=True, help_text="Bill the upgrade's difference for the days left"
    )

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
