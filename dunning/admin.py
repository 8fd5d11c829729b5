"""Dunning admin: cases (read-only, a timeline and the schedule, staff actions calling the same
services as the API), policies with their steps, per-tenant policies, decline codes, and a
recovery page (open cases, amount at risk, recovered this month, recovery rate)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billing_project.shared.admin import BillingAdmin, BillingTabularInline
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from billing_project.shared.money import format_money
from dunning import policy as pure
from dunning.models import (
    CaseStatus,
    DeclineCode,
    DunningCase,
    DunningEvent,
    DunningPolicy,
    DunningStep,
    TenantDunningPolicy,
)
from dunning.selectors import ACTIVE, recovery_figures
from dunning.serializers import _step_rows
from dunning.services import staff
from dunning.services.policies import policy_edited

# name -> (service, label); the same services `POST dunning/cases/{id}/...` calls.
CASE_ACTIONS = {
    "pause": (staff.case_pause, "Pause"),
    "resume": (staff.case_resume, "Resume"),
    "retry": (staff.case_retry, "Retry now"),
    "write_off": (staff.case_write_off, "Write off"),
}


def _actor(request) -> str:
    return f"staff:{request.user.username}"


class DunningEventInline(BillingTabularInline):
    """The case's timeline: one row per action taken, oldest first."""

    model = DunningEvent
    extra = 0
    can_delete = False
    ordering = ("at", "id")
    fields = (
        "at",
        "key",
        "kind",
        "actions",
        "outcome",
        "notice",
        "notice_status",
        "attempt",
        "actor",
    )
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _available(case) -> list[str]:
    """The buttons the change page offers for the case's status (the services decide)."""
    names = []
    if case.status == CaseStatus.OPEN:
        names.append("pause")
    if case.status == CaseStatus.PAUSED:
        names.append("resume")
    if case.status in (*ACTIVE, CaseStatus.EXHAUSTED):
        names.append("retry")
    if case.status not in (CaseStatus.RECOVERED, CaseStatus.WRITTEN_OFF):
        names.append("write_off")
    return names


def _run_action(modeladmin, request, case, name) -> bool:
    service = CASE_ACTIONS[name][0]
    try:
        service(case_id=case.pk, now=utcnow(), actor=_actor(request))
    except BillingError as exc:
        modeladmin.message_user(request, f"{case}: {exc.message}", messages.ERROR)
        return False
    return True


def _case_action(name: str, description: str):
    """A changelist action calling one staff service per selected case."""

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        done = sum(_run_action(modeladmin, request, case, name) for case in queryset)
        if done:
            label = CASE_ACTIONS[name][1]
            modeladmin.message_user(request, f"{label}: {done} case(s).", messages.SUCCESS)

    action.__name__ = name
    return action


@admin.register(DunningCase)
class DunningCaseAdmin(BillingAdmin):
    list_display = (
        "tenant",
        "invoice_number",
        "amount_due",
        "status",
        "stage",
        "opened_at",
        "next_action_at",
    )
    list_filter = ("status", "stage", "policy")
    search_fields = ("tenant__name", "invoice__number")
    list_select_related = ("tenant", "invoice", "policy")
    date_hierarchy = "opened_at"
    inlines = (DunningEventInline,)
    actions = ("pause", "resume", "retry", "write_off")
    export_money = {"invoice__amount_due": "invoice__currency"}
    fields = (
        "tenant",
        "invoice",
        "invoice_amount_due",
        "policy",
        "status",
        "stage",
        "opened_at",
        "next_action_at",
        "schedule",
        "shift_days",
        "paused_at",
        "suspended_at",
        "cancelled_at",
        "closed_at",
        "closed_reason",
        "last_decline_code",
        "retry_skipped_reason",
        "first_attempt",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    change_list_template = "admin/dunning/dunningcase/change_list.html"
    change_form_template = "admin/dunning/dunningcase/change_form.html"

    pause = _case_action("pause", "Pause selected cases")
    resume = _case_action("resume", "Resume selected cases")
    retry = _case_action("retry", "Retry now (charge the default card)")
    write_off = _case_action("write_off", "Write off (invoice uncollectible)")

    def has_add_permission(self, request):
        return False  # a case opens on the first failed collection, never by hand

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the change page is a viewer; the actions call the services

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("events", "policy__steps")

    @admin.display(description="invoice", ordering="invoice__number")
    def invoice_number(self, obj):
        return obj.invoice.number or obj.invoice_id

    @admin.display(description="amount due", ordering="invoice__amount_due")
    def amount_due(self, obj):
        return format_money(obj.invoice.amount_due, obj.invoice.currency)

    @admin.display(description="amount due")
    def invoice_amount_due(self, obj):
        return self.amount_due(obj)

    @admin.display(description="schedule")
    def schedule(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["day"],
                    ", ".join(row["actions"]) or "—",
                    row["due_at"],
                    row["status"],
                    row["executed_at"] or "",
                    row["outcome"] or "",
                )
                for row in _step_rows(obj)
            ),
        )
        return format_html(
            '<table class="dunning-schedule"><thead><tr><th>Day</th><th>Actions</th>'
            "<th>Due</th><th>Status</th><th>Executed</th><th>Outcome</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recovery/", view(self.recovery_view), name="dunning_dunningcase_recovery"),
            path(
                "<path:object_id>/act/<str:name>/",
                view(self.case_action_view),
                name="dunning_dunningcase_act",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["case_actions"] = [(n, CASE_ACTIONS[n][1]) for n in _available(obj)]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_action_view(self, request, object_id, name):
        """A button on the change page: one staff service, its refusal as an error message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in CASE_ACTIONS:
            raise PermissionDenied
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = get_object_or_404(DunningCase, pk=object_id)
        if _run_action(self, request, case, name):
            self.message_user(request, f"{CASE_ACTIONS[name][1]}: done.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:dunning_dunningcase_change", args=[case.pk]))

    def recovery_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        figures = recovery_figures(now=utcnow())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Dunning recovery",
            "figures": figures,
            "at_risk": _money_rows(figures["at_risk"]),
            "recovered": _money_rows(figures["recovered_this_month"]),
            "recovered_count": sum(r["cases"] for r in figures["recovered_this_month"]),
            "recovery_rate": (
                "—" if figures["recovery_rate"] is None else f"{figures['recovery_rate']}%"
            ),
        }
        return TemplateResponse(request, "admin/dunning/dunningcase/recovery.html", context)


def _money_rows(rows) -> list[dict]:
    return [
        {
            "currency": row["invoice__currency"].upper(),
            "cases": row["cases"],
            "amount": format_money(row["amount"] or 0, row["invoice__currency"]),
        }
        for row in rows
    ]


class DunningStepForm(forms.ModelForm):
    class Meta:
        model = DunningStep
        fields = ("day", "retry", "notice", "suspend", "cancel", "mark_uncollectible")

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day is not None and not 1 <= day <= pure.MAX_DAY:
            raise forms.ValidationError(f"Must be between 1 and {pure.MAX_DAY}.")
        return day


class DunningStepInline(BillingTabularInline):
    model = DunningStep
    form = DunningStepForm
    extra = 0
    fields = ("day", "retry", "notice", "suspend", "cancel", "mark_uncollectible")


@admin.register(DunningPolicy)
class DunningPolicyAdmin(BillingAdmin):
    """Edits the rows `GET/PUT dunning/policy` reads; open cases on a saved policy are looked at
    by the next pass (as after a PUT)."""

    list_display = ("name", "is_default", "grace_period_days", "max_attempts", "updated_at")
    search_fields = ("name",)
    fields = (
        "name",
        "is_default",
        "grace_period_days",
        "max_attempts",
        "description",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at")
    inlines = (DunningStepInline,)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.cases.exists()  # cases keep their policy (PROTECT)

    def save_model(self, request, obj, form, change):
        now = utcnow()
        if not change:
            obj.created_at = now
        obj.updated_at = now
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        policy_edited(policy=form.instance, now=utcnow())


@admin.register(TenantDunningPolicy)
class TenantDunningPolicyAdmin(BillingAdmin):
    """A tenant's own policy, for the cases opened from then on (an open case keeps its own)."""

    list_display = ("tenant", "policy")
    list_filter = ("policy",)
    search_fields = ("tenant__name", "tenant__email")
    list_select_related = ("tenant", "policy")
    autocomplete_fields = ("tenant",)

    def get_readonly_fields(self, request, obj=None):
        return ("tenant",) if obj is not None else ()  # the primary key


@admin.register(DeclineCode)
class DeclineCodeAdmin(BillingAdmin):
    list_display = ("code", "kind", "description")
    list_editable = ("kind",)
    list_filter = ("kind",)
    search_fields = ("code", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()  # the primary key
