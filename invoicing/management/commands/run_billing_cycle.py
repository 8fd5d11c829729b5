"""`python manage.py run_billing_cycle [--now ISO-8601]`: exactly what beat runs, as of --now."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from billing_project.shared.clock import utcnow
from invoicing.services.cycle import billing_cycle_dispatch, billing_cycle_run


def parse_instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--now must be an ISO-8601 date-time, got {value!r}") from None
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


class Command(BaseCommand):
    help = "Run the billing cycle (trial ends, period invoices, cancellations) as of --now."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO-8601 instant (default: the current time, UTC)")
        parser.add_argument(
            "--fan-out",
            action="store_true",
            help="send the period boundaries to the Celery workers as chunk tasks",
        )

    def handle(self, *args, **options):
        now = parse_instant(options["now"]) if options.get("now") else utcnow()
        if options.get("fan_out"):
            chunks = billing_cycle_dispatch(now=now)
            self.stdout.write(f"billing cycle as of {now.isoformat()}: {chunks} chunks sent")
            return
        try:
            result = billing_cycle_run(now=now)
        except Exception as exc:
            raise CommandError(f"billing cycle could not run: {exc}") from exc
        self.stdout.write(result.summary_line())
