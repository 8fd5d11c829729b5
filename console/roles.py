"""Staff roles: Django groups of model permissions (README "Staff roles and audit").

- `auditor`: every view permission of our apps and of the admin's other pages (the admin log,
  the Stripe mirror, schedules, login attempts, users and groups); changes nothing, runs no
  action.
- `billing_operator`: the auditor's views plus the day-to-day finance work: issue credit notes,
  act on invoices, record payments and retry them, work dunning cases, change subscriptions.
- `billing_admin`: every permission of our apps (and the schedules), plus the auditor's views.

Users, groups and 2FA devices stay with superusers. `roles_sync()` is idempotent: the data
migration console/0002 runs it, and so does every `migrate` (post_migrate), so models added later
join the roles without another migration.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

AUDITOR = "auditor"
BILLING_OPERATOR = "billing_operator"
BILLING_ADMIN = "billing_admin"
ROLES = (AUDITOR, BILLING_OPERATOR, BILLING_ADMIN)

OUR_APPS = (
    "shared",
    "tax",
    "subscriptions",
    "ledger",
    "usage",
    "invoicing",
    "payments",
    "dunning",
    "analytics",
    "console",
)
# Other apps whose admin pages staff read (view permissions only, for every role).
VIEWED_APPS = ("admin", "auth", "djstripe", "django_celery_beat", "axes", "pghistory")
# Apps billing_admin may also change.
ADMIN_EXTRA_APPS = ("django_celery_beat",)

OPERATOR_PERMS = (
    "invoicing.add_creditnote",
    "invoicing.change_invoice",
    "payments.add_paymentattempt",
    "dunning.change_dunningcase",
    "subscriptions.change_subscription",
)


def _label(perm: Permission) -> str:
    return f"{perm.content_type.app_label}.{perm.codename}"


def role_permissions(all_perms) -> dict[str, set]:
    """The permissions of each role, chosen from `all_perms` (Permission rows)."""
    views = {
        p
        for p in all_perms
        if p.codename.startswith("view_") and p.content_type.app_label in OUR_APPS + VIEWED_APPS
    }
    operator = views | {p for p in all_perms if _label(p) in OPERATOR_PERMS}
    admin = views | {
        p for p in all_perms if p.content_type.app_label in OUR_APPS + ADMIN_EXTRA_APPS
    }
    return {AUDITOR: views, BILLING_OPERATOR: operator, BILLING_ADMIN: admin}


def ensure_permissions(using: str = "default") -> None:
    """Create the content types and permissions of every installed model now (Django does it
    after `migrate`, too late for a data migration on a new database)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0, using=using)
        create_permissions(app_config, verbosity=0, using=using)


@transaction.atomic
def roles_sync(using: str = "default") -> dict[str, int]:
    """Create or update the three groups so each holds exactly its role's permissions."""
    all_perms = list(Permission.objects.using(using).select_related("content_type"))
    counts = {}
    for name, perms in role_permissions(all_perms).items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(perms)
        counts[name] = len(perms)
    return counts
