"""The default dunning policy (product.md section 9), Stripe's decline codes classified soft or
hard, and the beat entry of the dunning pass (hourly; editable in the admin).

Decline codes: https://docs.stripe.com/declines/codes (read 2026-12). Soft: the issuer may
approve a later attempt. Hard: retrying the same card cannot succeed (lost, stolen, closed,
wrong number, expired) or the issuer asked not to retry; the notice asks for a new card.
"""

from datetime import UTC, datetime

from django.db import migrations

DEFAULT_STEPS = (
    # day, retry, notice, suspend, cancel
    (1, True, "reminder", False, False),
    (3, True, "reminder", False, False),
    (7, True, "suspension_warning", False, False),
    (14, True, "suspended", True, False),
    (30, False, "cancelled", False, True),
)

SOFT = {
    "approve_with_id": "The payment cannot be authorized yet.",
    "authentication_required": "The card needs authentication; the customer may complete it.",
    "call_issuer": "Declined for an unknown reason; the issuer may approve later.",
    "card_declined": "Declined without a decline code.",
    "card_velocity_exceeded": "The balance or credit limit was exceeded.",
    "duplicate_transaction": "An identical charge was made very recently.",
    "generic_decline": "Declined for an unknown reason.",
    "insufficient_funds": "Not enough funds.",
    "issuer_not_available": "The issuer could not be reached.",
    "processing_error": "An error occurred while processing the card.",
    "reenter_transaction": "The issuer could not process it; try again.",
    "try_again_later": "Declined for an unknown reason; try again later.",
    "withdrawal_count_limit_exceeded": "The customer exceeded the card's withdrawal limit.",
}
HARD = {
    "card_not_supported": "The card does not support this type of purchase.",
    "currency_not_supported": "The card does not support the currency.",
    "do_not_honor": "Declined by the issuer; the customer must contact them or use another card.",
    "do_not_try_again": "The issuer asked not to retry.",
    "expired_card": "The card has expired.",
    "fraudulent": "Suspected fraud.",
    "incorrect_cvc": "The CVC is incorrect.",
    "incorrect_number": "The card number is incorrect.",
    "invalid_account": "The card or its account is invalid.",
    "invalid_cvc": "The CVC is invalid.",
    "invalid_expiry_month": "The expiry month is invalid.",
    "invalid_expiry_year": "The expiry year is invalid.",
    "invalid_number": "The card number is invalid.",
    "lost_card": "The card was reported lost.",
    "merchant_blacklist": "Declined by the issuer's block list.",
    "new_account_information_available": "The card or account was replaced.",
    "pickup_card": "The card cannot be used (reported lost or stolen).",
    "restricted_card": "The card cannot be used for this payment.",
    "revocation_of_all_authorizations": "The customer stopped all payments.",
    "revocation_of_authorization": "The customer stopped this payment.",
    "security_violation": "Declined for a security violation.",
    "stolen_card": "The card was reported stolen.",
    "stop_payment_order": "The customer stopped this payment.",
    "transaction_not_allowed": "The card does not allow this payment.",
}

BEAT_NAME = "dunning: run due dunning steps (hourly)"


def load(apps, schema_editor):
    Policy = apps.get_model("dunning", "DunningPolicy")
    Step = apps.get_model("dunning", "DunningStep")
    DeclineCode = apps.get_model("dunning", "DeclineCode")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    policy, _ = Policy.objects.get_or_create(
        name="Default",
        defaults={
            "is_default": True,
            "grace_period_days": 3,
            "max_attempts": 4,
            "description": "product.md section 9: retries on days 1, 3, 7 and 14, suspension "
            "on day 14, cancellation on day 30; 3 days of grace.",
            "created_at": now,
            "updated_at": now,
        },
    )
    for day, retry, notice, suspend, cancel in DEFAULT_STEPS:
        Step.objects.get_or_create(
            policy=policy,
            day=day,
            defaults={"retry": retry, "notice": notice, "suspend": suspend, "cancel": cancel},
        )
    for kind, codes in (("soft", SOFT), ("hard", HARD)):
        for code, description in codes.items():
            DeclineCode.objects.update_or_create(
                code=code, defaults={"kind": kind, "description": description}
            )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="5",
        hour="*",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=BEAT_NAME,
        defaults={
            "task": "dunning.run_steps",
            "crontab": crontab,
            "enabled": True,
            "description": "Due dunning steps on every open case (retries, notices, "
            "suspension, cancellation). The billing cycle also runs them first.",
        },
    )


def unload(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BEAT_NAME).delete()
    apps.get_model("dunning", "DeclineCode").objects.all().delete()
    apps.get_model("dunning", "DunningPolicy").objects.filter(name="Default").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dunning", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(load, unload)]
