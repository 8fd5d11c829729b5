"""Admin pages that read across every app (registered last: console is the last app).

Third-party admins are re-registered on the console's theme: dj-stripe's mirror tables become
read-only (no add, change, delete or resync: this system is the engine of record, Stripe's copy
is only looked at) and sit in the collapsed "Stripe mirror" sidebar group; django-celery-beat's
schedules and django.contrib.auth's users and groups get unfold's forms. The tenant page and
finance's actions (each calling the service the API calls) are in the admin_* modules.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from billing_project.shared.admin import ReadOnlyMixin
from console import (  # noqa: F401
    admin_audit,
    admin_dunning,
    admin_invoices,
    admin_subscriptions,
    admin_tenants,
)


class StripeMirrorReadOnly(ReadOnlyMixin):
    """Read-only, without dj-stripe's resync actions (they call Stripe)."""

    def get_actions(self, request):
        return {}


def _rethemed(model_admin: type, *mixins: type) -> type:
    """`model_admin` with unfold's ModelAdmin mixed in (after it, so its own behaviour wins)."""
    bases = (*mixins, model_admin, UnfoldModelAdmin)
    return type(f"Console{model_admin.__name__}", bases, {"__module__": __name__})


def _reregister(model, model_admin: type) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


def reregister_stripe_mirror() -> None:
    for model, model_admin in list(admin.site._registry.items()):
        if model._meta.app_label == "djstripe":
            _reregister(model, _rethemed(type(model_admin), StripeMirrorReadOnly))


reregister_stripe_mirror()

for _model in (PeriodicTask, IntervalSchedule, CrontabSchedule, ClockedSchedule, SolarSchedule):
    if admin.site.is_registered(_model):
        _reregister(_model, _rethemed(type(admin.site._registry[_model])))


class ConsoleUserAdmin(BaseUserAdmin, UnfoldModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


class ConsoleGroupAdmin(BaseGroupAdmin, UnfoldModelAdmin):
    pass


_reregister(User, ConsoleUserAdmin)
_reregister(Group, ConsoleGroupAdmin)


# Whatever else third-party apps registered (2FA devices, login attempts, audit events) gets the
# console's theme too, keeping its own behaviour.
for _model, _model_admin in list(admin.site._registry.items()):
    if not isinstance(_model_admin, UnfoldModelAdmin):
        _reregister(_model, _rethemed(type(_model_admin)))
