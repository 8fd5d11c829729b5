import functools

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from billing_project.shared.models import OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows the admin shows but never adds, changes or deletes (facts, journals, logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
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
