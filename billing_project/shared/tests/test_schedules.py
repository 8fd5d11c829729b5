from datetime import timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from billing_project.shared.clock import utcnow
from billing_project.shared.management.commands.run_schedules import run_due_tasks
from billing_project.shared.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def test_in_process_scheduler_runs_due_tasks_once_per_interval():
    now = utcnow()
    PeriodicTask.objects.update(last_run_at=now - timedelta(hours=2))
    IdempotencyRecord.objects.create(
        scope="s",
        key="old",
        method="POST",
        path="/x",
        request_hash="h",
        created_at=now - timedelta(days=3),
    )
    IdempotencyRecord.objects.create(
        scope="s", key="new", method="POST", path="/x", request_hash="h", created_at=now
    )
    ran = run_due_tasks(now=now)
    assert "shared.purge_idempotency_records" in ran
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert "shared.purge_idempotency_records" not in run_due_tasks(now=now)
