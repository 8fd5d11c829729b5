"""What every admin of ours is built on: django-unfold's ModelAdmin and inlines (the finance
console's theme, README "Finance console")."""

from decimal import Decimal

from django.contrib import admin
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import StackedInline as UnfoldStackedInline
from unfold.admin import TabularInline as UnfoldTabularInline

from billing_project.shared.models import OutboxMessage
from billing_project.shared.money import CURRENCY_SYMBOLS, currency_exponent, format_money


def _follow(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def money_display(cents, currency) -> str:
    """`$250.00` from integer minor units; "—" when there is no amount."""
    if cents is None or not currency:
        return "—"
    try:
        return format_money(int(cents), currency)
    except ValueError:  # unknown currency: say what the number is
        return f"{cents} {str(currency).upper()} minor units"


def unit_price_display(minor, currency) -> str:
    """A unit price in (possibly fractional) minor units as money with as many decimals as it
    needs: Decimal("20000.000000") USD -> `$200.00`, Decimal("0.5") USD -> `$0.005`."""
    if minor is None or not currency:
        return "—"
    try:
        exponent = currency_exponent(currency)
    except ValueError:
        return f"{minor} {str(currency).upper()} minor units"
    major = Decimal(minor).scaleb(-exponent).normalize()
    places = max(exponent, -major.as_tuple().exponent if major.as_tuple().exponent < 0 else 0)
    sign = "-" if major < 0 else ""
    number = f"{abs(major):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency.upper()}"


def _money_column(name: str, currency_path: str, label: str, unit_price: bool):
    render = unit_price_display if unit_price else money_display

    def column(obj):
        return render(getattr(obj, name, None), _follow(obj, currency_path))

    column.short_description = label
    column.admin_order_field = name
    return column


class MoneyDisplayMixin:
    """Integer minor-unit fields shown as money wherever the admin shows them read-only (lists,
    read-only fields, inlines): `money_fields = {"total": "currency"}` maps each field to the
    path of its currency (`"invoice__currency"`); `unit_price_fields` likewise for Decimal
    unit prices in minor units. Editable money fields keep their cents and say so in their
    help text."""

    money_fields: dict[str, str] = {}
    unit_price_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self.model
        for mapping, unit_price in ((self.money_fields, False), (self.unit_price_fields, True)):
            for name, currency_path in mapping.items():
                field = model._meta.get_field(name)
                label = str(field.verbose_name)
                setattr(self, f"{name}_money", _money_column(name, currency_path, label,
                                                              unit_price))  # fmt: skip

    def _money_names(self) -> dict[str, str]:
        names = {**self.money_fields, **self.unit_price_fields}
        return {name: f"{name}_money" for name in names}

    def get_readonly_fields(self, request, obj=None):
        """A read-only money field keeps its own name here (so the form never edits it) and
        gains its display (which the page shows instead)."""
        fields = list(super().get_readonly_fields(request, obj))
        swap = self._money_names()
        return fields + [swap[n] for n in fields if isinstance(n, str) and n in swap]

    def get_fields(self, request, obj=None):
        readonly = set(self.get_readonly_fields(request, obj))
        swap = self._money_names()
        result = []
        for name in super().get_fields(request, obj):
            if isinstance(name, str) and name in swap and swap[name] in readonly:
                name = swap[name]
            if name not in result:
                result.append(name)
        return result

    def get_list_display(self, request):
        swap = self._money_names()
        return [swap.get(n, n) if isinstance(n, str) else n
                for n in super().get_list_display(request)]  # fmt: skip


class BillingAdmin(MoneyDisplayMixin, UnfoldModelAdmin):
    """The base of every ModelAdmin of ours."""

    list_filter_submit = True
    list_per_page = 50


class BillingTabularInline(MoneyDisplayMixin, UnfoldTabularInline):
    """The base of every tabular inline of ours."""


class BillingStackedInline(MoneyDisplayMixin, UnfoldStackedInline):
    """The base of every stacked inline of ours."""


class ReadOnlyAdmin(BillingAdmin):
    """For rows the admin shows but never adds, changes or deletes (facts, journals, logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(BillingAdmin):
    """Tasks recorded but not yet handed to the broker (read-only: the sweep sends them)."""

    list_display = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")
    list_filter = ("task",)
    ordering = ("due_at", "id")
    readonly_fields = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
