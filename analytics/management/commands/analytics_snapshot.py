"""Rebuild the MRR snapshot (the daily MRR of every subscription, stored as run-length
segments) from the subscription change history: `--date D` for one day (default today, UTC),
`--backfill-from D` for every day from D through today. The same history gives the same rows."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.snapshots import snapshot_run
from billing_project.shared.clock import utcnow


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None)
        parser.add_argument("--backfill-from", type=date.fromisoformat, default=None)

    def handle(self, *args, date=None, backfill_from=None, **options):
        now = utcnow()
        if date and backfill_from:
            raise CommandError("Give --date or --backfill-from, not both.")
        if backfill_from:
            start, end = backfill_from, max(backfill_from, now.date())
        else:
            start = end = date or now.date()
        run = snapshot_run(from_date=start, to_date=end, now=now)
        self.stdout.write(
            f"analytics_snapshot {start}..{end}: {run.subscriptions} subscriptions, "
            f"{run.segments} segments in {run.seconds:.2f}s"
        )
