"""VAT ids checked offline with python-stdnum (format and checksum per country). Pure: no
Django. A VAT id names its own country by its prefix (DE..., FR..., EL... for Greece, GB... and
XI... for Northern Ireland); digits alone take the customer's country as the prefix.

An online check (VIES for EU ids, HMRC for GB) is a hook, off by default
(settings.TAX_VAT_ONLINE_CHECK): no test and no invoice needs the network."""

from collections.abc import Callable

from stdnum import vatin
from stdnum.exceptions import ValidationError as StdnumError


def vat_id_compact(value: str) -> str:
    return (value or "").strip().replace(" ", "").replace("-", "").replace(".", "").upper()


def vat_id_clean(value: str, *, country: str = "") -> str:
    """The compact, valid VAT id ("" for none); raises ValueError with the reason."""
    compact = vat_id_compact(value)
    if not compact:
        return ""
    country = (country or "").strip().upper()
    if compact[:2].isdigit() and country:
        prefix = {"GR": "EL", "UK": "GB"}.get(country, country)
        compact = prefix + compact
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]  # Greece's VAT prefix is EL
    if compact.startswith("UK"):
        compact = "GB" + compact[2:]
    try:
        return vatin.validate(compact)
    except StdnumError as exc:
        raise ValueError(f"Invalid VAT id: {exc}") from None


# A hook for an online check: (compact id) -> None or raises ValueError. None: offline only.
OnlineCheck = Callable[[str], None]


def vat_id_check(value: str, *, country: str = "", online: OnlineCheck | None = None) -> str:
    compact = vat_id_clean(value, country=country)
    if compact and online is not None:
        online(compact)
    return compact
