"""The billing cycle fanned out as chunk tasks (issue 17, scale-out): every due subscription is
billed exactly once whatever the chunking, a chunk delivered twice bills nothing more, beat's task
fans out when workers are configured, and two real worker processes share the chunks."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from invoicing.models import Invoice
from invoicing.services import cycle
from invoicing.tasks import run_billing_cycle_task
from invoicing.tests.conftest import at, start

FEB = at("2026-02-01T00:00:00Z")
ROOT = Path(__file__).resolve().parents[2]


def started(make_tenant, count):
    subs = [start(make_tenant())[0] for _ in range(count)]
    return subs, set(Invoice.objects.values_list("pk", flat=True))


def numbers_gapless():
    values = sorted(
        int(n.rsplit("-", 1)[1]) for n in Invoice.objects.values_list("number", flat=True)
    )
    return values == list(range(1, len(values) + 1))


@pytest.mark.django_db(transaction=True)
def test_dispatch_bills_each_due_subscription_once(make_tenant):
    subs, first = started(make_tenant, 5)
    assert cycle.billing_cycle_dispatch(now=FEB, chunk_size=2) == 3  # eager: run at the commit
    new = Invoice.objects.exclude(pk__in=first)
    assert sorted(i.subscription_id for i in new) == sorted(s.pk for s in subs)
    assert numbers_gapless()
    # the next run finds nothing due; a chunk delivered again bills nothing
    assert cycle.billing_cycle_dispatch(now=FEB, chunk_size=2) == 0
    again = cycle.billing_chunk_run(subscription_ids=[s.pk for s in subs], now=FEB)
    assert (again.invoices, again.periods) == (0, 0)
    assert Invoice.objects.exclude(pk__in=first).count() == 5


@pytest.mark.django_db(transaction=True)
def test_beat_task_fans_out_with_workers_configured(make_tenant, settings):
    settings.BILLING_FAN_OUT = True
    subs, first = started(make_tenant, 3)
    line = run_billing_cycle_task(now=FEB.isoformat())
    assert line.endswith("1 chunks sent to the workers")
    assert Invoice.objects.exclude(pk__in=first).count() == 3


def _worker(env, name):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "billing_project", "worker", "--pool", "solo"]
        + ["-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        + ["-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_the_chunks(make_tenant, settings):
    subs, first = started(make_tenant, 8)
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,  # this test process's own Redis database
    }
    workers = [_worker(env, f"w{n}-{os.getpid()}") for n in range(2)]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # dispatch sends to the broker
    try:
        assert cycle.billing_cycle_dispatch(now=FEB, chunk_size=2) == 4
        deadline = time.monotonic() + 120  # a loaded 2-core machine starts workers slowly
        while time.monotonic() < deadline:
            if Invoice.objects.exclude(pk__in=first).count() == 8:
                break
            time.sleep(0.3)
        new = Invoice.objects.exclude(pk__in=first)
        assert sorted(i.subscription_id for i in new) == sorted(s.pk for s in subs)
        assert numbers_gapless()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
