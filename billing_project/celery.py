"""Celery application. Without REDIS_URL tasks run eagerly in-process (see settings)."""

import os

from celery import Celery
from celery.signals import task_failure

from billing_project.shared import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.local")

app = Celery("billing_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_failure.connect
def _count_task_failure(sender=None, **kwargs):
    """Infrastructure, not domain flow: every failed task is counted for Prometheus."""
    metrics.inc(metrics.CELERY_TASK_FAILURES, task=getattr(sender, "name", None) or "unknown")
