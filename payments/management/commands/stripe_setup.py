"""`manage.py stripe_setup [--webhook-url URL]`: the guide's Stripe setup as one idempotent
command (see payments.services.stripe_setup). Checks the key first; prints one line per object
(created, updated, replaced or unchanged) and a summary; a rerun prints "unchanged" throughout.
Exits non-zero with the reason when the key is missing or refused or Stripe cannot be reached.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from billing_project.shared import stripe_gateway
from payments.services import stripe_setup


def default_webhook_url() -> str:
    return settings.STRIPE_WEBHOOK_URL or (settings.BILLING_PUBLIC_URL + reverse("stripe-webhook"))


class Command(BaseCommand):
    help = "Create or update the Stripe products, prices, meters and webhook endpoint."

    def add_arguments(self, parser):
        parser.add_argument(
            "--webhook-url",
            help="The public URL of POST webhooks/stripe (default: STRIPE_WEBHOOK_URL, else "
            "BILLING_PUBLIC_URL + /api/v1/billing/webhooks/stripe).",
        )

    def handle(self, *args, **options):
        if not stripe_gateway.is_configured():
            raise CommandError("STRIPE_SECRET_KEY is not set: nothing to set up.")
        url = options["webhook_url"] or default_webhook_url()
        if not url.startswith(("https://", "http://")):
            raise CommandError(f"The webhook URL must be http(s)://..., not {url!r}.")
        try:
            live = stripe_setup.key_check()
        except stripe_gateway.StripeAuthenticationFailed as exc:
            raise CommandError(
                f"Stripe refused the key in STRIPE_SECRET_KEY ({exc.message}). Use a secret "
                "key (sk_test_... or sk_live_...) from Dashboard > Developers > API keys."
            ) from exc
        except stripe_gateway.StripeGatewayError as exc:
            raise CommandError(f"Could not reach Stripe to check the key: {exc.message}") from exc
        self.stdout.write(f"key: accepted ({'live' if live else 'test'} mode)")
        try:
            outcomes = stripe_setup.stripe_setup(webhook_url=url)
        except stripe_gateway.StripeGatewayError as exc:
            raise CommandError(
                f"Stripe refused or failed a request: {exc.message} (objects already set up stay; "
                "rerun the command once fixed)."
            ) from exc
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
            line = f"{outcome.kind} {outcome.name}: {outcome.action} ({outcome.stripe_id})"
            self.stdout.write(f"{line}{' - ' + outcome.note if outcome.note else ''}")
            if outcome.secret:
                self.stdout.write(
                    f"  signing secret: {outcome.secret}\n"
                    "  Store it as STRIPE_WEBHOOK_SECRET (e.g. in /etc/leanvibe-billing/env) and "
                    "restart the web processes; Stripe shows it only at creation."
                )
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        self.stdout.write(f"stripe_setup: {len(outcomes)} objects: {summary}")
