"""Runs beat's schedules in-process, for `make run` without Redis (no worker, no beat).

Reads django-celery-beat's PeriodicTask rows (editable in the admin), runs each due task
locally with `apply()` and records `last_run_at`, so the schedules behave as beat would.
"""

import json
import logging
import time

from celery import current_app
from django.core.management.base import BaseCommand
from django_celery_beat.models import PeriodicTask

from billing_project.shared.clock import utcnow

log = logging.getLogger(__name__)


def run_due_tasks(*, now) -> list[str]:
    ran = []
    current_app.loader.import_default_modules()  # autodiscovers every app's tasks module
    for task in PeriodicTask.objects.filter(enabled=True).select_related("interval", "crontab"):
        schedule = task.schedule
        last = task.last_run_at or task.date_changed
        if not schedule.is_due(last).is_due:
            continue
        registered = current_app.tasks.get(task.task)
        if registered is None:
            log.warning("Scheduled task %s is not registered", task.task)
            continue
        try:
            registered.apply(
                args=json.loads(task.args or "[]"), kwargs=json.loads(task.kwargs or "{}")
            )
        except Exception:
            log.exception("Scheduled task %s failed", task.task)
        PeriodicTask.objects.filter(pk=task.pk).update(
            last_run_at=now, total_run_count=task.total_run_count + 1
        )
        ran.append(task.task)
    return ran


class Command(BaseCommand):
    help = "Run periodic tasks in-process (the embedded stand-in for Celery beat)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=30.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, **options):
        while True:
            ran = run_due_tasks(now=utcnow())
            if ran:
                log.info("Ran scheduled tasks: %s", ", ".join(ran))
            if options["once"]:
                self.stdout.write(f"{len(ran)} task(s) ran")
                return
            time.sleep(options["interval"])
