"""Send a Celery task by name: how a lower app tells an upper one, without importing it.

With `CELERY_TASK_ALWAYS_EAGER` (no broker: the embedded mode and the tests) the task runs
in-process at once through `apply()` (which also works for tasks registered by name only);
otherwise it is sent to the broker with `send_task`. Callers usually wrap it in
`transaction.on_commit(...)` so the task reads committed rows.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)


def dispatch_task(name: str, **kwargs):
    """Run (eager) or send (broker) the task registered as `name` with keyword arguments."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task = current_app.tasks.get(name)
        if task is None:
            current_app.loader.import_default_modules()  # autodiscover every app's tasks
            task = current_app.tasks.get(name)
        if task is None:
            log.warning("Task %s is not registered; nothing ran", name)
            return None
        return task.apply(kwargs=kwargs)
    return current_app.send_task(name, kwargs=kwargs)
