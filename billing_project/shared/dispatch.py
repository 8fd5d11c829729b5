"""Send a Celery task by name: how a lower app tells an upper one, without importing it.

With `CELERY_TASK_ALWAYS_EAGER` (no broker: the embedded mode and the tests) the task runs
in-process at once through `apply()` (which also works for tasks registered by name only);
otherwise it is sent to the broker with `send_task`.

`dispatch_after_commit` is for work a transaction decides (email this invoice, collect it): the
task is recorded in an outbox row in the caller's transaction and sent after the commit. A send
that fails (the broker is down) or never happens (the process died between commit and send)
leaves the row, and `outbox_sweep` (beat, every minute, and the billing cycle) sends it later.
A task may be sent more than once (a crash after the send, before the row is deleted; a broker
redelivery), never zero times: the tasks sent this way must be idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F

from billing_project.shared.clock import utcnow
from billing_project.shared.models import OutboxMessage

log = logging.getLogger(__name__)

# The after-commit send normally takes milliseconds; the sweep leaves a row alone this long.
AFTER_COMMIT_GRACE = timedelta(minutes=1)
# A sweep's claim on the rows it is sending (longer than sending a batch takes, eager included).
SWEEP_LEASE = timedelta(minutes=10)
SWEEP_BATCH = 100


def _registered(name: str):
    task = current_app.tasks.get(name)
    if task is None:
        current_app.loader.import_default_modules()  # autodiscover every app's tasks
        task = current_app.tasks.get(name)
    return task


def dispatch_task(name: str, **kwargs):
    """Run (eager) or send (broker) the task registered as `name` with keyword arguments."""
    try:
        return _hand_over(name, kwargs)
    except LookupError:
        log.warning("Task %s is not registered; nothing ran", name)
        return None


def _hand_over(name: str, kwargs: dict, *, retry: bool = True):
    """Run or send the task; an unknown task name (eager) raises LookupError, so the outbox keeps
    its row. `retry=False`: one publish attempt, no retry (a broker that is down then costs
    ~20 ms, not the default policy's ~0.6 s per task, in a request or after a billing cycle's
    commit)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        policy = None if retry else {"max_retries": 0}
        return current_app.send_task(name, kwargs=kwargs, retry_policy=policy)
    task = _registered(name)
    if task is None:
        raise LookupError(f"task {name} is not registered")
    return task.apply(kwargs=kwargs)


def dispatch_after_commit(name: str, **kwargs) -> None:
    """Record the task in the caller's transaction and send it after the commit (nothing is
    sent if the transaction, or the savepoint around this call, rolls back)."""
    now = utcnow()
    message = OutboxMessage.objects.create(
        task=name, kwargs=kwargs, created_at=now, due_at=now + AFTER_COMMIT_GRACE
    )
    transaction.on_commit(partial(_send_recorded, message.pk, name, kwargs), robust=True)


def _send_recorded(message_id: int, name: str, kwargs: dict) -> None:
    try:
        _hand_over(name, kwargs, retry=False)
    except Exception as exc:
        log.warning("Task %s not sent (%s); the outbox sweep will send it", name, exc)
        OutboxMessage.objects.filter(pk=message_id).update(
            due_at=utcnow(), attempts=F("attempts") + 1, last_error=str(exc)[:2000]
        )
        return
    OutboxMessage.objects.filter(pk=message_id).delete()


def _claim(*, now: datetime, limit: int) -> list[tuple[int, str, dict]]:
    """Due rows nobody else is sending, oldest first; the claim is a lease (due_at moved on),
    committed before anything is sent, so a concurrent sweep skips them."""
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at", "id")
            .values_list("id", "task", "kwargs")[:limit]
        )
        if rows:
            OutboxMessage.objects.filter(pk__in=[row[0] for row in rows]).update(
                due_at=now + SWEEP_LEASE, attempts=F("attempts") + 1
            )
    return rows


def outbox_sweep(*, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Send every task the outbox holds that is due at `now` (wall clock); returns how many
    were sent. Stops at the first failed send (the broker is down): that row and the rest of
    its batch are due again at once, for the next sweep."""
    sent = 0
    while True:
        rows = _claim(now=now, limit=limit)
        done: list[int] = []
        try:
            for message_id, name, kwargs in rows:
                try:
                    _hand_over(name, kwargs)
                except Exception as exc:
                    log.warning("outbox sweep: %s not sent (%s); %d left", name, exc, len(rows))
                    left = [row[0] for row in rows[len(done) :]]
                    OutboxMessage.objects.filter(pk__in=left).update(
                        due_at=now, last_error=str(exc)[:2000]
                    )
                    return sent + len(done)
                done.append(message_id)
        finally:
            OutboxMessage.objects.filter(pk__in=done).delete()
        sent += len(done)
        if len(rows) < limit:
            return sent
