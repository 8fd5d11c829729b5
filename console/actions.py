"""Detail actions of the finance console: one page per action on one object.

Each action is a ModelAdmin method `(request, object_id) -> response` marked with
`@detail_action(...)`: GET shows its form (or a confirmation, or a preview), POST parses the
form, calls one service, writes the admin's LogEntry (so the audit trail shows who did what)
and comes back to the object's page with the service's result as a message; a refusal
(BillingError) shows the service's own message on the form, and nothing changed.

The attributes the decorator sets are the ones django-unfold reads from `actions_detail`
methods (`url_path`, `short_description`, `allowed_permissions` checked with `has_perm`,
`attrs`, `icon`, `variant`), so the same methods are unfold's detail buttons; the URLs are
registered under unfold's names (`<app>_<model>_<method>`) by `ConsoleActionsMixin`, also under
unfold, and the change page lists them in its object tools (a method put in `actions_detail`
as well would get the same URL from unfold: harmless).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billing_project.shared.errors import BillingError


def detail_action(*, label: str, permission: str, url_path: str, icon: str = "", danger=False):
    """Mark a ModelAdmin method as a console detail action guarded by a model permission."""

    def decorate(func: Callable) -> Callable:
        func.short_description = label
        func.url_path = url_path
        func.allowed_permissions = (permission,)
        func.console_permission = permission
        func.attrs = {}
        func.icon = icon or None
        func.variant = "danger" if danger else "default"
        func.dialog = None
        return func

    return decorate


def error_text(exc: BillingError) -> str:
    """The service's message with each field's problems, as one line."""
    detail = "; ".join(
        f"{field}: {' '.join(map(str, problems))}" for field, problems in (exc.errors or {}).items()
    )
    return f"{exc.message} {detail}".strip()


def actor_of(request) -> str:
    return f"staff:{request.user.username}"


class ConsoleActionsMixin:
    """Registers the `console_actions` methods' URLs and gives them their common steps."""

    console_actions: tuple[str, ...] = ()
    console_base_change_form = "admin/change_form.html"

    def get_urls(self):
        urls = super().get_urls()
        info = self.model._meta.app_label, self.model._meta.model_name
        own = [
            path(
                f"<path:object_id>/{getattr(self, name).url_path}/",
                self.admin_site.admin_view(getattr(self, name)),
                name=f"{info[0]}_{info[1]}_{name}",
            )
            for name in self.console_actions
        ]
        return own + urls

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["console_actions"] = self.available_actions(request, obj)
        context["console_base_change_form"] = self.console_base_change_form
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the steps every action shares -------------------------------------------------------

    def action_object(self, request, object_id, name: str):
        """The object, once the user may run action `name` (403 otherwise, 404 if missing)."""
        method = getattr(self, name)
        if not request.user.has_perm(method.console_permission):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def action_url(self, name: str, obj) -> str:
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(f"{self.admin_site.name}:{info[0]}_{info[1]}_{name}", args=[obj.pk])

    def object_url(self, obj) -> str:
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(f"{self.admin_site.name}:{info[0]}_{info[1]}_change", args=[obj.pk])

    def available_actions(self, request, obj) -> list[dict]:
        """The actions this user may run, as (label, url) for the change page's buttons."""
        return [
            {"label": getattr(self, name).short_description, "url": self.action_url(name, obj)}
            for name in self.console_actions
            if request.user.has_perm(getattr(self, name).console_permission)
        ]

    def action_page(
        self,
        request,
        obj,
        *,
        name: str,
        form=None,
        intro="",
        preview="",
        submit="Confirm",
        hidden=None,
        status=200,
    ):
        method = getattr(self, name)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": f"{method.short_description}: {obj}",
            "action_label": method.short_description,
            "intro": intro,
            "preview": preview,
            "form": form,
            "hidden": hidden or {},
            "submit": submit,
            "object_url": self.object_url(obj),
            "action_url": self.action_url(name, obj),
            "danger": method.variant == "danger",
        }
        return TemplateResponse(request, "console/action.html", context, status=status)

    def action_run(
        self,
        request,
        obj,
        *,
        name: str,
        run: Callable,
        done: Callable[..., str],
        form=None,
        intro="",
        redirect_to=None,
        log_obj=None,
    ):
        """Call the service; on success log it and go back with its result, on a refusal show
        the service's message on the same page (status 409/400 as the API would answer)."""
        try:
            result = run()
        except BillingError as exc:
            messages.error(request, error_text(exc))
            return self.action_page(
                request, obj, name=name, form=form, intro=intro, status=exc.status_code
            )
        message = done(result)
        target = log_obj if log_obj is not None else obj
        self.log_change(request, target, f"{getattr(self, name).short_description}: {message}")
        messages.success(request, message)
        return HttpResponseRedirect(redirect_to(result) if redirect_to else self.object_url(obj))
