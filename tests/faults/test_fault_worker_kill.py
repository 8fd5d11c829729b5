"""A real Celery worker SIGKILLed in the middle of a billing cycle and of a dunning pass, with
Redis and with RabbitMQ as the broker. The test holds a row lock the task needs (the invoice
number counter; one case's invoice), waits until the worker's transaction is blocked on it,
kills the worker, lets go, and starts another worker, which takes the unacknowledged task again
(RabbitMQ requeues it when the connection drops; Redis after its visibility timeout). The rerun
completes: one invoice per subscription and period, numbers gapless, one retry and one notice per
dunning step, one email per invoice (received by a private SMTP server)."""

import importlib
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from celery import current_app
from django.db import connection

from dunning.models import DunningCase, DunningEvent
from invoicing.models import Invoice, NumberSequence
from invoicing.services.subscription_billing import subscription_start_and_invoice
from payments.models import PaymentAttempt
from payments.tests.conftest import DECLINING_CARD
from subscriptions.models import Plan, Subscription
from tests.faults.servers import Worker, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.stripe]

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB_CYCLE = datetime(2026, 2, 1, 1, tzinfo=UTC)


def _rabbitmq_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request):
    if request.param == "redis":
        server = request.getfixturevalue("private_redis")
        yield server.url, {"FAULTS_VISIBILITY_TIMEOUT": "2"}
        return
    if not _rabbitmq_up():
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    yield RABBITMQ_URL, {}


@pytest.fixture
def default_dunning_policy():
    """A transactional test before this one flushed the tables: load the default policy again
    (its data migration's own function)."""
    from django.apps import apps

    importlib.import_module("dunning.migrations.0002_default_policy").load(apps, None)


def _send(broker_url: str, queue: str, name: str, **kwargs) -> None:
    with current_app.connection_for_write(broker_url) as conn:
        current_app.send_task(name, kwargs=kwargs, queue=queue, connection=conn)


def _lock_holder():
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"], user=db.get("USER") or None, host=db.get("HOST") or None,
        port=db.get("PORT") or None, autocommit=False,
    )  # fmt: skip


def _blocked_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _numbers() -> list[int]:
    return sorted(
        int(n.rsplit("-", 1)[1]) for n in Invoice.objects.values_list("number", flat=True)
    )


def _kill_while_blocked(worker: Worker, holder, lock_sql: str, params, send) -> None:
    with holder.cursor() as cursor:
        cursor.execute(lock_sql, params)
        assert cursor.rowcount >= 1
    send()
    wait_for(lambda: _blocked_backends() > 0, timeout=90, what="the worker blocked mid-task")
    worker.kill()
    holder.rollback()  # let go: the killed worker's transaction is rolled back


def _delete_queue(broker_url: str, queue: str) -> None:
    if broker_url.startswith("amqp"):
        with current_app.connection_for_write(broker_url) as conn:
            conn.default_channel.queue_delete(queue)


def test_worker_killed_mid_cycle_and_mid_dunning_pass_reruns_once(
    broker,
    default_dunning_policy,
    private_smtp,
    tmp_path,
    make_tenant,
    with_card,
    staff_client,
    stripe_enabled,
):
    broker_url, env = broker
    queue = f"faults-{uuid.uuid4().hex[:12]}"
    private_smtp.start()
    env = {**env, "FAULTS_SMTP_PORT": str(private_smtp.port),
           "FAULTS_STRIPE_URL": stripe_enabled, "FAULTS_STRIPE_KEY": "sk_test_" +
           "leanvibeLocalstripe0123456789"}  # fmt: skip
    log = tmp_path / "worker.log"
    holder = _lock_holder()
    workers = []

    def worker():
        workers.append(Worker(broker_url=broker_url, queue=queue, env=env).start(log))
        return workers[-1]

    try:
        # --- the billing cycle: four subscriptions due on Feb 1 -----------------------------
        plan = Plan.objects.get(slug="developer")
        subs = [
            subscription_start_and_invoice(tenant=make_tenant(), plan=plan, now=JAN)[0]
            for _ in range(4)
        ]
        assert _numbers() == [1, 2, 3, 4]
        first = worker()
        _kill_while_blocked(
            first, holder,
            f'SELECT 1 FROM "{NumberSequence._meta.db_table}" FOR UPDATE', None,
            lambda: _send(broker_url, queue, "invoicing.run_billing_cycle",
                          now=FEB_CYCLE.isoformat()),
        )  # fmt: skip
        assert _numbers() == [1, 2, 3, 4]  # the killed run left nothing behind
        assert Subscription.objects.filter(current_period_start=JAN).count() == 4

        second = worker()  # takes the unacknowledged cycle again
        wait_for(lambda: Invoice.objects.count() == 8, timeout=120, what="the rerun's invoices")
        for sub in subs:
            assert (
                Invoice.objects.filter(
                    subscription=sub, period_start__gte=sub.current_period_end
                ).count()
                == 1
            )
        assert _numbers() == list(range(1, 9))
        new = list(Invoice.objects.filter(period_start__gt=JAN).values_list("number", flat=True))

        def emailed():
            return [n for n in new if any(f"invoice {n} " in s for s in private_smtp.subjects())]

        wait_for(lambda: len(emailed()) == 4, timeout=120, what="the invoice emails")

        # --- the dunning pass: two declined invoices on day 1 -------------------------------
        cases = []
        for _ in range(2):
            tenant = make_tenant()
            with_card(tenant, DECLINING_CARD)
            response = staff_client.post(
                "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
            )
            assert response.status_code == 201, response.content
            cases.append(DunningCase.objects.get(tenant=tenant))
        day1 = max(c.opened_at for c in cases) + timedelta(days=1, hours=1)
        _kill_while_blocked(
            second, holder,
            f'SELECT 1 FROM "{Invoice._meta.db_table}" WHERE id = %s FOR UPDATE',
            [cases[1].invoice_id],
            lambda: _send(broker_url, queue, "dunning.run_steps", now=day1.isoformat()),
        )  # fmt: skip
        worker()  # the third worker reruns the pass

        def settled():
            events = DunningEvent.objects.filter(case__in=cases, kind="step", done=True)
            return events.filter(notice_status="sent").count() == 2

        wait_for(settled, timeout=120, what="the rerun dunning pass")
        time.sleep(1.0)  # anything still queued after the pass
        wait_for(settled, timeout=30, what="the rerun dunning pass")
    finally:
        for w in workers:
            w.kill()
        holder.close()
        _delete_queue(broker_url, queue)

    for case in cases:
        assert PaymentAttempt.objects.filter(invoice_id=case.invoice_id).count() == 2
        (event,) = DunningEvent.objects.filter(case=case, kind="step")
        assert (event.key, event.done, event.notice_status) == ("day:1", True, "sent")
        reminders = [
            m for m in private_smtp.messages
            if str(m["Subject"]).startswith("Payment reminder") and m["To"] == case.tenant.email
        ]  # fmt: skip
        assert len(reminders) == 1
    subjects = private_smtp.subjects()
    for number in new:
        assert len([s for s in subjects if f"invoice {number} " in s]) == 1
    assert _numbers() == list(range(1, Invoice.objects.count() + 1))
