"""Celery tasks of analytics: the daily MRR snapshot, and monitoring's alert rules (evaluated by
beat every 5 minutes; a firing delivered with back-off until delivered)."""

from datetime import date, datetime, timedelta

from celery import shared_task

from analytics.services.alerts import alert_firing_deliver, alerts_evaluate
from analytics.snapshots import snapshot_run
from billing_project.shared.clock import utcnow

RETRY_DELAYS = (30, 120, 600, 1800, 7200)


@shared_task(name="analytics.snapshot", acks_late=True, time_limit=1800)
def snapshot_task(day: str | None = None):
    """The daily beat: rebuild yesterday's and today's MRR segments from the history."""
    now = utcnow()
    target = date.fromisoformat(day) if day else now.date()
    run = snapshot_run(from_date=target - timedelta(days=1), to_date=target, now=now)
    return f"{run.subscriptions} subscriptions, {run.segments} segments in {run.seconds}s"


@shared_task(name="analytics.evaluate_alerts", acks_late=True, time_limit=240)
def evaluate_alerts_task(now: str | None = None):
    as_of = datetime.fromisoformat(now) if now else utcnow()
    return [str(firing.pk) for firing in alerts_evaluate(now=as_of)]


@shared_task(
    bind=True,
    name="analytics.deliver_alert_firing",
    acks_late=True,
    max_retries=len(RETRY_DELAYS),
    time_limit=60,
)
def deliver_alert_firing_task(self, firing_id: str):
    if alert_firing_deliver(firing_id=firing_id, now=utcnow()):
        return "delivered"
    if self.request.retries >= self.max_retries:
        return "not delivered: gave up (see the firing's last_error)"
    delay = RETRY_DELAYS[min(self.request.retries, len(RETRY_DELAYS) - 1)]
    raise self.retry(countdown=delay)
