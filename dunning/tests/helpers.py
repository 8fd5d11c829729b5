"""Helpers of the dunning tests."""

from django.conf import settings


def notices(mailoutbox, since: int) -> list[str]:
    """Dunning's and payments' emails (not the invoice emails themselves)."""
    company = settings.BILLING_COMPANY["name"]
    return [m.subject for m in mailoutbox[since:] if not m.subject.startswith(company)]


def state(tenant):
    tenant.refresh_from_db()
    return tenant.status, tenant.service_level
