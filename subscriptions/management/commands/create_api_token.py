import uuid

from django.core.management.base import BaseCommand, CommandError

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from subscriptions.models import Tenant
from subscriptions.services.tokens import api_token_create, staff_user_get_or_create


class Command(BaseCommand):
    help = "Create an API token and print it (it is shown only once)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--tenant", help="tenant id")
        group.add_argument("--staff", metavar="USERNAME", help="staff user (created if needed)")
        parser.add_argument("--role", choices=["tenant_admin", "tenant_member"])
        parser.add_argument("--name", default="")

    def handle(self, *args, **options):
        now = utcnow()
        try:
            if options["staff"]:
                if options["role"]:
                    # A staff token has every right: never hand one out for a tenant role.
                    raise CommandError("--role is only for --tenant; --staff makes a staff token.")
                user = staff_user_get_or_create(username=options["staff"])
                _, raw = api_token_create(role="staff", user=user, name=options["name"], now=now)
            else:
                if not options["role"]:
                    raise CommandError("--role is required with --tenant.")
                try:
                    tenant_id = uuid.UUID(options["tenant"])
                except ValueError:
                    raise CommandError(f"Not a tenant id: {options['tenant']}.") from None
                tenant = Tenant.objects.filter(pk=tenant_id).first()
                if tenant is None:
                    raise CommandError(f"Unknown tenant {options['tenant']}.")
                _, raw = api_token_create(
                    role=options["role"], tenant=tenant, name=options["name"], now=now
                )
        except (BillingError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(raw)
