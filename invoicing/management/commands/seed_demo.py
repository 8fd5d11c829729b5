"""Loads a demo tenant on the Team plan (first invoice included) and prints an admin login and
two API tokens. Safe to run again. Lives in invoicing: starting a subscription bills it."""

import os

from django.core.management.base import BaseCommand
from django.db import connection

from billing_project.shared.clock import utcnow
from invoicing.services.subscription_billing import subscription_start_and_invoice
from subscriptions.models import Plan, Tenant
from subscriptions.selectors import subscription_live_for_tenant
from subscriptions.services.tenants import tenant_create
from subscriptions.services.tokens import api_token_create, staff_user_get_or_create

DEMO_TENANT_NAME = "Demo Tenant Inc."
DEMO_EMAIL = "billing@demo-tenant.example"


class Command(BaseCommand):
    help = "Create the demo tenant, a staff login and API tokens (prints them)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-tokens", action="store_true", help="do not create tokens")

    def handle(self, *args, **options):
        now = utcnow()
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user = staff_user_get_or_create(username=username)
        if not user.has_usable_password() or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        tenant = Tenant.objects.filter(name=DEMO_TENANT_NAME).first()
        if tenant is None:
            tenant = tenant_create(
                name=DEMO_TENANT_NAME,
                email=DEMO_EMAIL,
                country="US",
                state="CA",
                postal_code="94105",
                address_line1="1 Demo Way",
                city="San Francisco",
                now=now,
            )
        self._seed_domain(tenant=tenant, now=now)
        if options["quiet_tokens"]:
            return
        _, staff_token = api_token_create(role="staff", user=user, name="demo", now=now)
        _, tenant_token = api_token_create(role="tenant_admin", tenant=tenant, name="demo", now=now)
        base = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        db = connection.settings_dict
        version = connection.pg_version // 10000
        rule = "=" * 79
        self.stdout.write(
            f"\n{rule}\nLeanVibe Billing demo\n"
            f"  admin:        {base}/admin/  (login {username} / {password})\n"
            f"  API docs:     {base}/api/v1/billing/docs/\n"
            f"  database:     PostgreSQL {version}, {db['USER']}@{db['HOST']}:{db['PORT']}/"
            f"{db['NAME']}\n"
            f"  demo tenant:  {tenant.id}\n"
            f"  staff token:  {staff_token}\n"
            f"  tenant_admin token (demo tenant): {tenant_token}\n"
            f"  try: curl -H 'Authorization: Bearer {staff_token}' {base}/api/v1/billing/plans\n"
            f"{rule}\n"
        )

    def _seed_domain(self, *, tenant, now):
        if subscription_live_for_tenant(tenant_id=tenant.pk) is None:
            subscription_start_and_invoice(
                tenant=tenant, plan=Plan.objects.get(slug="team"), now=now, actor="seed_demo"
            )
