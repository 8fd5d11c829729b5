"""The staff roles (auditor, billing_operator, billing_admin) as groups: console/roles.py.

Uses the live models on purpose: permissions are made from the installed apps' current models
(Django makes them only after `migrate`, too late here), and roles_sync() runs again after every
migrate, so this migration and later models agree.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from console.roles import ensure_permissions, roles_sync

    alias = schema_editor.connection.alias
    ensure_permissions(using=alias)
    roles_sync(using=alias)


def delete_roles(apps, schema_editor):
    from console.roles import ROLES

    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_audit_events"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
