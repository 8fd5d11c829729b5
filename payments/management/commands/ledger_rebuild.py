"""Post the journal entries of documents made before the ledger existed: every finalized
invoice's events in order (finalization, payments, credit notes, write-off, void), then the
refunds. Entries are unique per document and event: a second run posts nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from billing_project.shared.clock import utcnow
from invoicing.services.journal_check import ledger_rebuild_invoices
from payments.models import Refund
from payments.services.refunds import refund_post


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        now = utcnow()
        invoices = ledger_rebuild_invoices(now=now)
        refunds = 0
        for refund in Refund.objects.order_by("created_at", "id").iterator():
            with transaction.atomic():
                refund_post(refund=refund, now=now)
            refunds += 1
        self.stdout.write(f"replayed {invoices} invoices and {refunds} refunds")
