"""`manage.py usage_reconcile [--tenant ID] [--period START END]`: rollups vs raw events."""

from django.core.management.base import BaseCommand, CommandError

from usage.reconcile import usage_reconcile
from usage.validation import parse_timestamp


class Command(BaseCommand):
    help = (
        "Recompute the hourly and daily usage aggregates from raw events and report any "
        "difference. "
        "Exits 0 when clean ('0 differences'), 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Tenant id (default: every tenant)")
        parser.add_argument(
            "--period", nargs=2, metavar=("START", "END"), help="ISO 8601 instants, [START, END)"
        )
        parser.add_argument("--limit", type=int, default=20, help="Differences to print")

    def handle(self, *args, tenant=None, period=None, limit=20, **options):
        start = end = None
        if period:
            try:
                start, end = (parse_timestamp(value) for value in period)
            except ValueError as exc:
                raise CommandError(f"--period: {exc}")
        differences = usage_reconcile(tenant_id=tenant, start=start, end=end)
        for diff in differences[:limit]:
            self.stdout.write(
                f"{diff.kind} tenant={diff.tenant_id} metric={diff.metric_id} "
                f"hour={diff.hour:%Y-%m-%dT%H:00Z} events=[{diff.from_events}] "
                f"rollups=[{diff.from_rollups}]"
            )
        self.stdout.write(f"{len(differences)} differences")
        if differences:
            raise SystemExit(1)
