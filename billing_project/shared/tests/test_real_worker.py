"""A real Celery worker against Redis runs a task sent by name (no eager mode)."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings

from billing_project.shared.clock import utcnow
from billing_project.shared.models import IdempotencyRecord

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_worker_consumes_task_from_redis():
    db = settings.DATABASES["default"]
    queue = f"test-{os.getpid()}"
    IdempotencyRecord.objects.create(
        scope="s",
        key="stale",
        method="POST",
        path="/x",
        request_hash="h",
        created_at=utcnow() - timedelta(days=3),
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "billing_project",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            current_app.send_task("shared.purge_idempotency_records", queue=queue, connection=conn)
        deadline = time.monotonic() + 90  # a loaded 2-core machine starts a worker slowly
        while time.monotonic() < deadline and IdempotencyRecord.objects.exists():
            time.sleep(0.2)
        assert not IdempotencyRecord.objects.exists()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
