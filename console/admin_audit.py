"""Admin pages that read across every app (registered last).

- "Audit trail": the trigger-written events of every tracked finance model (who, when, URL,
  before/after of each changed field) merged with Django's admin log (what admin forms and
  actions write), filtered by user, model, object and date. Read-only.
- Login attempts (django-axes) re-registered read-only; a superuser may delete an attempt to
  unlock its username and address.
"""

import csv
import io
import json
from datetime import date, datetime, time, timedelta

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from pghistory.models import Events

from billing_project.shared.admin import ReadOnlyAdmin
from console.models import EVENT_MODELS, AuditTrail

DEFAULT_DAYS = 30
MAX_ROWS = 300
LOG_ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _bounds(params) -> tuple[datetime, datetime | None, date, date | None]:
    start_day = _parse_date(params.get("date_from", "")) or (
        timezone.now().date() - timedelta(days=DEFAULT_DAYS)
    )
    end_day = _parse_date(params.get("date_to", ""))
    start = datetime.combine(start_day, time.min, tzinfo=timezone.get_current_timezone())
    end = (
        datetime.combine(
            end_day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )
        if end_day
        else None
    )
    return start, end, start_day, end_day


def _change_url(label: str, object_id) -> str:
    app_label, _, model = label.partition(".")
    try:
        return reverse(f"admin:{app_label}_{model.lower()}_change", args=[object_id])
    except NoReverseMatch:
        return ""


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def audit_events(*, user_id=None, model: str = "", object_id: str = "", start, end, limit: int):
    """Trigger events, newest first, as dicts for the page."""
    models = [EVENT_MODELS[model]] if model in EVENT_MODELS else list(EVENT_MODELS.values())
    if model and model not in EVENT_MODELS:
        return []
    queryset = (
        Events.objects.across(*models)
        .filter(pgh_created_at__gte=start)
        .exclude(pgh_label="snapshot")  # the baseline of rows older than the trail
    )
    if end is not None:
        queryset = queryset.filter(pgh_created_at__lt=end)
    if object_id:
        queryset = queryset.filter(pgh_obj_id=object_id)
    if user_id:
        queryset = queryset.filter(pgh_context__user=user_id)
    rows = []
    for event in queryset.order_by("-pgh_created_at", "-pgh_id")[:limit]:
        context = event.pgh_context or {}
        if event.pgh_label == "update":
            changes = [
                {"field": field, "before": _show(pair[0]), "after": _show(pair[1])}
                for field, pair in sorted((event.pgh_diff or {}).items())
            ]
        else:
            side = "after" if event.pgh_label == "insert" else "before"
            changes = [
                {"field": field, side: _show(value)}
                for field, value in sorted((event.pgh_data or {}).items())
            ]
        rows.append(
            {
                "at": event.pgh_created_at,
                "source": "database",
                "user_id": context.get("user"),
                "url": context.get("url", ""),
                "model": event.pgh_obj_model,
                "object_id": event.pgh_obj_id,
                "object_url": _change_url(event.pgh_obj_model, event.pgh_obj_id),
                "what": event.pgh_label,
                "changes": changes,
            }
        )
    return rows


def admin_log(*, user_id=None, model: str = "", object_id: str = "", start, end, limit: int):
    """Django admin LogEntry rows (form saves, deletions, actions), newest first."""
    queryset = LogEntry.objects.select_related("content_type").filter(action_time__gte=start)
    if end is not None:
        queryset = queryset.filter(action_time__lt=end)
    if model:
        app_label, _, model_name = model.partition(".")
        content_type = ContentType.objects.filter(
            app_label=app_label, model=model_name.lower()
        ).first()
        if content_type is None:
            return []
        queryset = queryset.filter(content_type=content_type)
    if object_id:
        queryset = queryset.filter(object_id=object_id)
    if user_id:
        queryset = queryset.filter(user_id=user_id)
    rows = []
    for entry in queryset.order_by("-action_time", "-id")[:limit]:
        label = (
            f"{entry.content_type.app_label}.{entry.content_type.model_class().__name__}"
            if entry.content_type and entry.content_type.model_class()
            else ""
        )
        rows.append(
            {
                "at": entry.action_time,
                "source": "admin log",
                "user_id": entry.user_id,
                "url": "",
                "model": label,
                "object_id": entry.object_id,
                "object_url": _change_url(label, entry.object_id) if entry.object_id else "",
                "what": LOG_ACTIONS.get(entry.action_flag, str(entry.action_flag)),
                "message": entry.get_change_message() or entry.object_repr,
                "changes": [],
            }
        )
    return rows


def audit_trail(*, params) -> dict:
    """Both sources merged, newest first, with the filters the page shows."""
    start, end, start_day, end_day = _bounds(params)
    try:
        user_id = int(params.get("user") or 0) or None
    except ValueError:
        user_id = None
    model = params.get("model", "")
    object_id = params.get("object", "").strip()
    source = params.get("source", "")
    kwargs = dict(
        user_id=user_id, model=model, object_id=object_id, start=start, end=end, limit=MAX_ROWS
    )
    rows = []
    if source in ("", "database"):
        rows += audit_events(**kwargs)
    if source in ("", "admin"):
        rows += admin_log(**kwargs)
    rows.sort(key=lambda row: row["at"], reverse=True)
    rows = rows[:MAX_ROWS]
    users = {
        user.pk: user.get_username()
        for user in get_user_model().objects.filter(
            pk__in={row["user_id"] for row in rows if row["user_id"]}
        )
    }
    for row in rows:
        row["user"] = users.get(row["user_id"], "") if row["user_id"] else "system"
    models = sorted(EVENT_MODELS)
    return {
        "rows": rows,
        "truncated": len(rows) >= MAX_ROWS,
        "filters": {
            "user": user_id or "",
            "model": model,
            "object": object_id,
            "source": source,
            "date_from": start_day.isoformat(),
            "date_to": end_day.isoformat() if end_day else "",
        },
        "models": models,
        "staff": get_user_model().objects.filter(is_staff=True).order_by("username"),
    }


def _changes_text(changes) -> str:
    return "; ".join(
        f"{c['field']}: {c.get('before', '')} -> {c.get('after', '')}" for c in changes
    )


def audit_trail_csv(rows) -> HttpResponse:
    """The rows the page shows (same filters, same limit) as a CSV download."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "user", "source", "url", "model", "object_id", "what", "message",
                     "changes"])  # fmt: skip
    for row in rows:
        writer.writerow([
            row["at"].isoformat(), row["user"], row["source"], row["url"], row["model"],
            row["object_id"] or "", row["what"], row.get("message", ""),
            _changes_text(row["changes"]),
        ])  # fmt: skip
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@admin.register(AuditTrail)
class AuditTrailAdmin(ReadOnlyAdmin):
    """One read-only page; the proxy model gives it a place in the admin and a view permission
    (`console.view_audittrail`, held by every staff role)."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name=f"{info[0]}_{info[1]}_changelist",
            ),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.GET.get("export") == "csv":
            return audit_trail_csv(audit_trail(params=request.GET)["rows"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Audit trail",
            "opts": self.opts,
            **audit_trail(params=request.GET),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/console/audit_trail.html", context)


class _ReadOnlyAxesMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # deleting an attempt unlocks it


for _model, _base in (
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (AccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(_base.__name__, (_ReadOnlyAxesMixin, _base), {}))
