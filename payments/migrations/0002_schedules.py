"""Beat schedules (django_celery_beat's DatabaseScheduler): payment retries every 15 minutes,
webhook events due for a (re)try every minute."""

from django.db import migrations

SCHEDULES = (
    (
        "payments: retry pending payment attempts (every 15 min)",
        "payments.retry_pending",
        "*/15",
        "Pending charges whose next_retry_at has come (Stripe was down, or a crash).",
    ),
    (
        "payments: process pending webhook events (every minute)",
        "payments.process_pending_webhooks",
        "*",
        "Stripe webhook events due for a first try or a retry.",
    ),
)


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, description in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour="*",
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
        ("payments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
