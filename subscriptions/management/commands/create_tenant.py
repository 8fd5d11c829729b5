from django.core.management.base import BaseCommand, CommandError

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from subscriptions.services.tenants import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (and its Stripe customer when Stripe is configured); prints its id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--country", default="US")
        parser.add_argument("--state", default="")
        parser.add_argument("--postal-code", default="")
        parser.add_argument("--vat-id", default="")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--currency", default="usd")
        parser.add_argument("--payment-terms", default="due_on_receipt")

    def handle(self, *args, **options):
        try:
            tenant = tenant_create(
                name=options["name"],
                email=options["email"],
                country=options["country"],
                state=options["state"],
                postal_code=options["postal_code"],
                vat_id=options["vat_id"],
                timezone=options["timezone"],
                currency=options["currency"],
                payment_terms=options["payment_terms"],
                now=utcnow(),
            )
        except BillingError as exc:
            raise CommandError(f"{exc.message} {exc.errors or ''}".strip()) from exc
        self.stdout.write(str(tenant.id))
