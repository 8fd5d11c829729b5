"""Dunning case pages: pause and resume as console actions (`dunning.services.staff.case_pause`
/ `case_resume`, the services of `POST dunning/cases/{id}/pause|resume`), guarded by
`dunning.change_dunningcase`; the case page's existing buttons (pause, resume, retry, write off)
now need that permission too and write the admin's LogEntry."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from console.actions import ConsoleActionsMixin, actor_of, detail_action, error_text
from dunning.admin import CASE_ACTIONS, DunningCaseAdmin
from dunning.models import DunningCase
from dunning.services import staff

PERMISSION = "dunning.change_dunningcase"

admin.site.unregister(DunningCase)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _case_text(case: DunningCase) -> str:
    nxt = f", next action {case.next_action_at:%Y-%m-%d %H:%M}" if case.next_action_at else ""
    return f"the case of {case.invoice.number} is {case.status} (stage {case.stage}{nxt})"


@admin.register(DunningCase)
class ConsoleDunningCaseAdmin(ConsoleActionsMixin, DunningCaseAdmin):
    console_actions = ("pause_case", "resume_case")
    change_form_template = "console/change_form.html"
    console_base_change_form = DunningCaseAdmin.change_form_template

    def _confirmed(self, request, object_id, name, *, intro, service):
        case = self.action_object(request, object_id, name)
        if request.method != "POST":
            return self.action_page(request, case, name=name, intro=intro(case))
        return self.action_run(
            request,
            case,
            name=name,
            intro=intro(case),
            run=lambda: service(case_id=case.pk, now=utcnow(), actor=actor_of(request)),
            done=lambda result: _sentence(
                _case_text(DunningCase.objects.select_related("invoice").get(pk=result.pk))
            ),
        )

    @detail_action(
        label="Pause dunning", permission=PERMISSION, url_path="pause-dunning", icon="pause_circle"
    )
    def pause_case(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "pause_case",
            service=staff.case_pause,
            intro=lambda c: (
                f"Pause dunning on {c.invoice.number} for {c.tenant}: no retries, "
                "emails or suspension until resumed; the schedule then shifts by the days paused."
            ),
        )

    @detail_action(
        label="Resume dunning", permission=PERMISSION, url_path="resume-dunning", icon="play_circle"
    )
    def resume_case(self, request, object_id):
        return self._confirmed(
            request,
            object_id,
            "resume_case",
            service=staff.case_resume,
            intro=lambda c: (
                f"Resume dunning on {c.invoice.number} for {c.tenant}, every later "
                "step shifted by the whole days it was paused."
            ),
        )

    def case_action_view(self, request, object_id, name):
        """The page's buttons: the same services, now under the change permission and logged."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in CASE_ACTIONS or not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        case = get_object_or_404(DunningCase, pk=object_id)
        service, label = CASE_ACTIONS[name]
        try:
            result = service(case_id=case.pk, now=utcnow(), actor=actor_of(request))
        except BillingError as exc:
            messages.error(request, f"{case}: {error_text(exc)}")
        else:
            text = _case_text(DunningCase.objects.select_related("invoice").get(pk=result.pk))
            self.log_change(request, case, f"{label}: {text}")
            messages.success(request, f"{label}: done.")
        return HttpResponseRedirect(self.object_url(case))
