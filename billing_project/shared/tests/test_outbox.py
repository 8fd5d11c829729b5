"""The transactional outbox (shared.dispatch): recorded in the caller's transaction, sent after
commit, what was not sent is sent by the sweep, once."""

import threading
from datetime import timedelta

import pytest
from celery import current_app
from django.db import connection, transaction

from billing_project.shared import dispatch
from billing_project.shared.clock import utcnow
from billing_project.shared.dispatch import dispatch_after_commit, outbox_sweep
from billing_project.shared.models import IdempotencyRecord, OutboxMessage

pytestmark = pytest.mark.django_db

PURGE = "shared.purge_idempotency_records"


def stale_record(key: str = "stale") -> None:
    IdempotencyRecord.objects.create(
        scope="s",
        key=key,
        method="POST",
        path="/x",
        request_hash="h",
        created_at=utcnow() - timedelta(days=3),
    )


def test_eager_task_runs_after_commit_and_its_row_goes(django_capture_on_commit_callbacks):
    stale_record()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        dispatch_after_commit(PURGE)
        row = OutboxMessage.objects.get()
        assert (row.task, row.kwargs, row.due_at > utcnow()) == (PURGE, {}, True)
        assert IdempotencyRecord.objects.exists()  # nothing runs before the commit
    assert not IdempotencyRecord.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_rolled_back_savepoint_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                dispatch_after_commit(PURGE)
                raise RuntimeError("the caller's work failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not OutboxMessage.objects.exists()


def test_a_failed_send_leaves_the_row_due_for_the_sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_after_commit("no.such_task", x=1)
    row = OutboxMessage.objects.get()
    assert row.due_at <= utcnow() and row.attempts == 1 and "not registered" in row.last_error


def test_sweep_sends_what_is_due_once_and_leaves_rows_in_their_grace():
    stale_record()
    now = utcnow()
    due = OutboxMessage.objects.create(task=PURGE, kwargs={}, created_at=now, due_at=now)
    in_flight = OutboxMessage.objects.create(
        task=PURGE, kwargs={}, created_at=now, due_at=now + dispatch.AFTER_COMMIT_GRACE
    )
    assert outbox_sweep(now=now) == 1
    assert not IdempotencyRecord.objects.exists()
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [in_flight.pk]
    assert not OutboxMessage.objects.filter(pk=due.pk).exists()
    assert outbox_sweep(now=now) == 0


def test_a_claimed_row_is_not_claimed_again():
    now = utcnow()
    OutboxMessage.objects.create(task=PURGE, kwargs={}, created_at=now, due_at=now)
    assert len(dispatch._claim(now=now, limit=10)) == 1
    assert dispatch._claim(now=now, limit=10) == []  # a concurrent sweep skips it (leased)
    later = now + dispatch.SWEEP_LEASE
    assert len(dispatch._claim(now=later, limit=10)) == 1  # the sweep that claimed it died


def test_sweep_goes_through_batches():
    now = utcnow()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task=PURGE, kwargs={}, created_at=now, due_at=now) for _ in range(5)
    )
    assert outbox_sweep(now=now, limit=2) == 5
    assert not OutboxMessage.objects.exists()


def test_sweep_with_the_broker_down_stops_and_keeps_every_row(settings):
    """A broker on a closed port: the first send fails, nothing is lost, all are due again."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app = current_app
    old_url = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app._pool, app.amqp._producer_pool = None, None
    try:
        now = utcnow()
        OutboxMessage.objects.bulk_create(
            OutboxMessage(task=PURGE, kwargs={}, created_at=now, due_at=now) for _ in range(3)
        )
        assert outbox_sweep(now=now) == 0
    finally:
        app.conf.broker_url = old_url
        app._pool, app.amqp._producer_pool = None, None
    assert OutboxMessage.objects.filter(due_at__lte=now).count() == 3
    assert all("111" in e or "refused" in e.lower() for e in
               OutboxMessage.objects.values_list("last_error", flat=True))  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_row_another_sweep_is_claiming_is_skipped_not_waited_for():
    now = utcnow()
    row = OutboxMessage.objects.create(task=PURGE, kwargs={}, created_at=now, due_at=now)
    locked, release = threading.Event(), threading.Event()

    def other_sweep():
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=row.pk)
            locked.set()
            release.wait(30)
        connection.close()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    try:
        assert locked.wait(30)
        assert outbox_sweep(now=now) == 0  # SKIP LOCKED: no wait, no second send
    finally:
        release.set()
        thread.join(30)
    assert outbox_sweep(now=now) == 1
