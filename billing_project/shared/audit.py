"""Staff safety middleware: the audit trail's request context and read-only staff.

- `AuditContextMiddleware`: every write request (POST/PUT/PATCH/DELETE) runs inside a
  django-pghistory context holding the user (admin session or staff bearer token, set when DRF
  authenticates) and the URL, so each trigger-written audit event says who did it and where.
  Usage ingestion and Stripe webhooks are left out: they are the hot paths, no staff acts through
  them, and they write no audited table directly.
- `ReadOnlyStaffMiddleware`: a staff user whose permissions are all `view_*` (the auditor role)
  never writes through the admin: any POST there answers 403, whatever a page or action forgets
  to check, except signing in and out, their own password and their own 2FA device, and
  read-only actions (exports, PDF downloads).
"""

from django.core.exceptions import PermissionDenied
from pghistory.middleware import HistoryMiddleware

from billing_project.shared.admin import READ_ONLY_ACTIONS

AUDIT_SKIPPED_PREFIXES = ("/api/v1/billing/usage", "/api/v1/billing/webhooks/")

ADMIN_PREFIX = "/admin/"
# Admin paths a read-only user may POST to (relative to ADMIN_PREFIX).
SELF_SERVICE_PATHS = ("login/", "logout/", "password_change/", "otp/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AuditContextMiddleware(HistoryMiddleware):
    def __call__(self, request):
        if request.path.startswith(AUDIT_SKIPPED_PREFIXES):
            return self.get_response(request)
        return super().__call__(request)


def is_read_only(user) -> bool:
    """True for an active staff user, not a superuser, holding only view permissions (or none)."""
    if not (user.is_authenticated and user.is_active and user.is_staff) or user.is_superuser:
        return False
    return all(perm.split(".", 1)[-1].startswith("view_") for perm in user.get_all_permissions())


class ReadOnlyStaffMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and request.path.startswith(ADMIN_PREFIX):
            user = getattr(request, "user", None)
            if user is not None and is_read_only(user) and not self._allowed(request):
                raise PermissionDenied("Read-only staff cannot change anything.")
        return self.get_response(request)

    @staticmethod
    def _allowed(request) -> bool:
        rest = request.path[len(ADMIN_PREFIX) :]
        if rest.startswith(SELF_SERVICE_PATHS) or rest.endswith("/export/"):
            return True
        return request.POST.get("action", "") in READ_ONLY_ACTIONS
