from datetime import date, timedelta

from celery import shared_task

from analytics.snapshots import snapshot_run
from billing_project.shared.clock import utcnow


@shared_task(name="analytics.snapshot", acks_late=True, time_limit=1800)
def snapshot_task(day: str | None = None):
    """The daily beat: rebuild yesterday's and today's MRR segments from the history."""
    now = utcnow()
    target = date.fromisoformat(day) if day else now.date()
    run = snapshot_run(from_date=target - timedelta(days=1), to_date=target, now=now)
    return f"{run.subscriptions} subscriptions, {run.segments} segments in {run.seconds}s"
