"""What every admin of ours is built on: django-unfold's ModelAdmin and inlines (the finance
console's theme, README "Finance console")."""

import functools
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import StackedInline as UnfoldStackedInline
from unfold.admin import TabularInline as UnfoldTabularInline
from unfold.contrib.import_export.forms import SelectableFieldsExportForm

from billing_project.shared.export import export_resource
from billing_project.shared.forms import money_form
from billing_project.shared.json_forms import PrettyJSONField
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
    unit prices in minor units. Editable ones are typed in major units (`250.00`) and stored in
    minor units (`billing_project.shared.forms`), the currency a field of the same form
    (`"currency"`, `"plan__currency"`) or of the row."""

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

    def _money_form(self, form_class):
        currencies = {**self.money_fields, **self.unit_price_fields}
        return money_form(form_class, currencies, unit_prices=self.unit_price_fields)

    def get_form(self, request, obj=None, **kwargs):
        return self._money_form(super().get_form(request, obj, **kwargs))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self._money_form(formset.form)
        return formset


# A JSON column a form edits without a form of its own: indented, refused with the parser's
# message and place (forms with a known shape use billing_project.shared.json_forms' fields).
JSON_OVERRIDES = {models.JSONField: {"form_class": PrettyJSONField}}


class BillingAdmin(MoneyDisplayMixin, ExportMixin, UnfoldModelAdmin):
    """The base of every ModelAdmin of ours. Every list exports to CSV (django-import-export,
    unfold's form: pick the columns; the list's filters and search apply) for whoever may view
    it; nothing imports. `export_exclude` leaves fields out (secrets), `export_money` adds
    related amounts (`{"invoice__amount_due": "invoice__currency"}`); see `shared/export.py`."""

    list_filter_submit = True
    list_per_page = 50
    formfield_overrides = JSON_OVERRIDES
    export_form_class = SelectableFieldsExportForm
    export_formats = [CSV]
    export_exclude: tuple[str, ...] = ()
    export_money: dict[str, str] = {}

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_resource_classes(self, request):
        return [export_resource(self)]


class BillingTabularInline(MoneyDisplayMixin, UnfoldTabularInline):
    """The base of every tabular inline of ours."""

    formfield_overrides = JSON_OVERRIDES


class BillingStackedInline(MoneyDisplayMixin, UnfoldStackedInline):
    """The base of every stacked inline of ours."""

    formfield_overrides = JSON_OVERRIDES


class ReadOnlyMixin:
    """No add, change or delete, whatever the user's permissions (mixed into any ModelAdmin)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, BillingAdmin):
    """For rows the admin shows but never adds, changes or deletes (facts, journals, logs)."""


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


# --- Staff permissions in the admin (README "Staff roles and audit") --------------------------
# Roles are groups of model permissions (console/roles.py). Django's admin checks them for the
# standard add/change/delete pages; these helpers extend the checks to admin actions and custom
# admin views, which Django lets any staff user with the "view" permission run.

# Actions that only read (exports, downloads): allowed with the model's view permission.
READ_ONLY_ACTIONS = frozenset({"export_admin_action", "download_pdf"})


def _request_in(args) -> HttpRequest | None:
    return next((arg for arg in args if isinstance(arg, HttpRequest)), None)


def requires_perm(*perms: str):
    """Guard an admin action, an admin view (method or function) or an unfold action with model
    permissions, e.g. `@requires_perm("invoicing.add_creditnote")`: a user lacking any of them
    gets 403 (PermissionDenied), and `GuardedActionsMixin` hides the action from them."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            request = _request_in(args)
            if request is None or not request.user.has_perms(perms):
                raise PermissionDenied
            return func(*args, **kwargs)

        wrapper.required_perms = tuple(perms)
        return wrapper

    return decorator


def action_required_perms(modeladmin, name: str, func) -> tuple[str, ...]:
    """What an admin action needs: its `requires_perm`, else the model's view permission for a
    read-only action, else the model's change permission (an action changes something)."""
    perms = getattr(func, "required_perms", None)
    if perms is not None:
        return tuple(perms)
    opts = modeladmin.model._meta
    if name == "delete_selected":
        return (f"{opts.app_label}.delete_{opts.model_name}",)
    kind = "view" if name in READ_ONLY_ACTIONS else "change"
    return (f"{opts.app_label}.{kind}_{opts.model_name}",)


class GuardedActionsMixin:
    """A ModelAdmin whose bulk actions need the model permissions above: hidden from users without
    them, and a POST of one anyway answers 403. console installs it on every registered admin."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: action
            for name, action in actions.items()
            if request.user.has_perms(action_required_perms(self, name, action[0]))
        }

    def response_action(self, request, queryset):
        name = request.POST.get("action", "")
        known = name in {n for _func, n, _desc in self._get_base_actions()}
        if known and name not in self.get_actions(request):
            raise PermissionDenied
        return super().response_action(request, queryset)


def guard_admin_site(site) -> int:
    """Give every ModelAdmin registered on `site` the GuardedActionsMixin (a subclass made on the
    fly, so each app's admin.py stays as it is). Returns how many were changed."""
    changed = 0
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if issubclass(cls, GuardedActionsMixin):
            continue
        model_admin.__class__ = type(cls.__name__, (GuardedActionsMixin, cls), {})
        changed += 1
    return changed
