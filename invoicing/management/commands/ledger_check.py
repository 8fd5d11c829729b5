"""Check the ledger against the invoices: each tenant's receivable equals the amount due of its
open invoices, and the journal balances per currency. Prints `0 differences` (exit 0) or each
difference and their count (exit 1)."""

from django.core.management.base import BaseCommand

from invoicing.services.journal_check import ledger_differences


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        found = ledger_differences()
        for line in found:
            self.stdout.write(line)
        self.stdout.write(f"{len(found)} differences")
        if found:
            raise SystemExit(1)
