"""Tenant VAT ids: offline always (tax.vat_ids), online only when a check is configured."""

import pytest

from subscriptions.validation import clean_vat_id


def refuse_all(compact: str) -> None:
    raise ValueError(f"Invalid VAT id: {compact} is not registered (online check).")


def test_the_configured_online_check_is_used_by_tenant_validation(settings):
    assert clean_vat_id("DE", "DE136695976") == "DE136695976"  # off by default
    settings.TAX_VAT_ONLINE_CHECK = "subscriptions.tests.test_vat_online_check.refuse_all"
    with pytest.raises(ValueError, match="not registered"):
        clean_vat_id("DE", "DE136695976")
