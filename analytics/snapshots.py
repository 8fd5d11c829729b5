"""The MRR snapshot service: rebuild the stored segments (the daily MRR of every subscription,
run-length encoded) for a range of days from the subscription change history."""

from datetime import UTC, date, datetime, time, timedelta

from analytics.models import SnapshotRun
from analytics.selectors.facts import segments_rebuild


def snapshot_run(*, from_date: date, to_date: date, now: datetime) -> SnapshotRun:
    """Recompute, from the history, the segments of every subscription live on any day of
    [from_date, to_date] (each one whole: its days before `from_date` come out the same, the
    history being append-only). Reproducible: the same history gives the same rows."""
    since = datetime.combine(from_date, time.min, tzinfo=UTC)
    until = datetime.combine(to_date + timedelta(days=1), time.min, tzinfo=UTC)
    subscriptions, segments, seconds = segments_rebuild(live_since=since, started_before=until)
    return SnapshotRun.objects.create(
        started_at=now,
        from_date=from_date,
        to_date=to_date,
        subscriptions=subscriptions,
        segments=segments,
        seconds=round(seconds, 3),
    )
