"""The ledger's daily beat entries (editable in the admin): revenue recognition through
yesterday, and ledger_check."""

from django.db import migrations

SCHEDULES = (
    (
        "invoicing: recognize revenue through yesterday (daily)",
        "invoicing.recognize_revenue",
        "15",
        "Dr deferred revenue, Cr subscription revenue for what fees billed in advance earned "
        "through yesterday (idempotent; `manage.py ledger_recognize`).",
    ),
    (
        "invoicing: check the ledger (daily)",
        "invoicing.ledger_check",
        "45",
        "Receivables against open invoices, the trial balance per currency and deferred "
        "revenue against the schedule; differences logged as errors.",
    ),
)


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, description in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour="0",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": crontab,
                "enabled": True,
                "description": description,
            },
        )


def delete_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0005_consolidated_invoices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
