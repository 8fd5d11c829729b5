"""Post revenue recognition through a date (default today, UTC): Dr deferred revenue, Cr
subscription revenue for what fees billed in advance earned. Running it twice posts nothing."""

from datetime import date

from django.core.management.base import BaseCommand

from billing_project.shared.clock import utcnow
from invoicing.services.recognition import recognize_through


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--through", type=date.fromisoformat, default=None)

    def handle(self, *args, through=None, **options):
        now = utcnow()
        posted = recognize_through(through=through or now.date(), now=now)
        self.stdout.write(f"{posted} recognition entries posted")
