"""Money typed like money in forms: `250.00` in the currency's major units, stored (and handed to
services) as integer minor units with the currency's exponent (`250.00` USD -> 25000, `250` JPY
-> 250). The API is not involved: it takes and returns minor units.

`MoneyField(currency="usd")` cleans straight to minor units. Without a currency (the row's
currency is another field of the same form, e.g. a plan's), it cleans to a Decimal in major units
and `money_form()` converts it in the form's `clean()`, once the currency is known."""

from decimal import Decimal, InvalidOperation

from django import forms
from unfold.widgets import UnfoldAdminTextInputWidget

from billing_project.shared.money import currency_exponent, major_to_minor, minor_to_major

# Fractional minor units a unit price may have (the DecimalFields hold 6 decimals).
UNIT_PRICE_PLACES = 6


def _follow(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def to_minor(amount: Decimal, currency: str, *, unit_price: bool = False):
    """Major units -> minor units (int; a Decimal for unit prices). ValidationError when the
    currency is unknown or the amount has more decimals than it allows."""
    try:
        minor = major_to_minor(amount, currency, extra_places=UNIT_PRICE_PLACES * unit_price)
    except ValueError as exc:
        raise forms.ValidationError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
    return minor if unit_price else int(minor)


class MoneyField(forms.Field):
    """`250`, `250.00` or `1,250.50` (major units). With `currency`: cleaned to integer minor
    units; without: to a Decimal in major units (see `money_form`)."""

    def __init__(self, *, currency: str | None = None, positive=False, unit_price=False, **kw):
        self.currency, self.positive, self.unit_price = currency, positive, unit_price
        if currency:
            kw.setdefault("help_text", f"In {currency.upper()}, e.g. 250.00")
        attrs = {"inputmode": "decimal", "size": 14}
        kw.setdefault("widget", UnfoldAdminTextInputWidget(attrs=attrs))
        super().__init__(**kw)

    def to_python(self, value):
        if isinstance(value, Decimal):
            return value
        value = str(value if value is not None else "").replace(",", "").strip()[:30]
        if value in self.empty_values:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount such as 250.00.") from None
        if not amount.is_finite():
            raise forms.ValidationError("Enter an amount such as 250.00.")
        if self.positive and amount <= 0:
            raise forms.ValidationError("Enter a positive amount.")
        if amount < 0:
            raise forms.ValidationError("Enter an amount of zero or more.")
        return amount

    def clean(self, value):
        amount = super().clean(value)
        if amount is None or not self.currency:
            return amount
        return to_minor(amount, self.currency, unit_price=self.unit_price)

    def has_changed(self, initial, data):
        try:
            return self.to_python(initial) != self.to_python(data)
        except forms.ValidationError:
            return True


class MoneyFormMixin:
    """A ModelForm whose minor-unit fields are edited in major units. `money_currencies` maps
    each field to the path of its currency: a field of this form (`"currency"`, or through one,
    `"plan__currency"`) or of the row (`"invoice__currency"`)."""

    money_currencies: dict[str, str] = {}
    money_unit_prices: frozenset[str] = frozenset()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.money_currencies:
            if name not in self.fields:
                continue
            old = self.fields[name]
            unit_price = name in self.money_unit_prices
            currency = self._row_currency(name)
            hint = f"In {currency.upper()}" if currency else "In the currency's major units"
            field = MoneyField(
                required=old.required,
                label=old.label,
                unit_price=unit_price,
                help_text=f"{hint}, e.g. 250.00 (not cents).",
                disabled=old.disabled,
            )
            if currency:
                field.widget.attrs["suffix"] = currency.upper()
            self.fields[name] = field
            raw = self.initial.get(name, old.initial)
            if raw not in (None, "") and currency:
                self.initial[name] = minor_to_major(raw, currency)

    def _row_currency(self, name: str) -> str:
        currency = _follow(self.instance, self.money_currencies[name])
        try:
            currency_exponent(currency or "")
        except ValueError:
            return ""
        return currency

    def _form_currency(self, name: str) -> str:
        path = self.money_currencies[name]
        head, _, rest = path.partition("__")
        if head in self.fields:
            value = self.cleaned_data.get(head)
            return _follow(value, rest) if rest else value
        return _follow(self.instance, path)

    def clean(self):
        data = super().clean()
        for name in self.money_currencies:
            amount = data.get(name) if name in self.fields else None
            if not isinstance(amount, Decimal):
                continue
            currency = self._form_currency(name)
            if not currency:
                self.add_error(name, "Choose the currency of this amount.")
                continue
            unit_price = name in self.money_unit_prices
            try:
                data[name] = to_minor(amount, str(currency), unit_price=unit_price)
            except forms.ValidationError as exc:
                data.pop(name, None)
                self.add_error(name, exc)
        return data


def money_form(form_class, currencies: dict[str, str], unit_prices=()):
    """`form_class` with `MoneyFormMixin` for these fields (no change when there are none)."""
    if not currencies:
        return form_class
    attrs = {"money_currencies": dict(currencies), "money_unit_prices": frozenset(unit_prices)}
    return type(form_class.__name__, (MoneyFormMixin, form_class), attrs)
