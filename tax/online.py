"""The optional online VAT id check (VIES for EU ids, HMRC for GB): off by default.

`settings.TAX_VAT_ONLINE_CHECK` names a callable `(compact_id) -> None` that raises ValueError
for an id the registry does not know; blank means the offline check only (tax.vat_ids)."""

from django.conf import settings
from django.utils.module_loading import import_string

from tax.vat_ids import OnlineCheck


def vat_online_check() -> OnlineCheck | None:
    path = getattr(settings, "TAX_VAT_ONLINE_CHECK", "")
    return import_string(path) if path else None
