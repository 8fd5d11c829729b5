"""The daily beat entry of revenue recognition (editable in the admin)."""

from django.db import migrations

BEAT_NAME = "invoicing: recognize revenue through yesterday (daily)"


def load(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=BEAT_NAME,
        defaults={
            "task": "invoicing.recognize_revenue",
            "crontab": crontab,
            "enabled": True,
            "description": "Dr deferred revenue, Cr subscription revenue for what fees billed "
            "in advance earned through yesterday (idempotent; `manage.py ledger_recognize`).",
        },
    )


def unload(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BEAT_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0005_consolidated_invoices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(load, unload)]
