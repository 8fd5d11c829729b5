from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs):
    """Keep the staff roles complete after every migrate (and test-database flush): models
    added since the data migration join their roles."""
    from console.roles import roles_sync

    roles_sync(using=using)


class ConsoleConfig(AppConfig):
    name = "console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib import admin

        from billing_project.shared.admin import guard_admin_site

        # Every admin action needs a model permission (billing_project/shared/admin.py).
        guard_admin_site(admin.site)
        # "View site" opens the API docs rather than a 404 at /.
        admin.site.site_url = "/api/v1/billing/docs/"
        # Console is the last app: its post_migrate runs after auth has made the permissions.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="console-roles-sync")
