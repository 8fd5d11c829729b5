"""Writes to the tax tables (the admin and the tests go through these)."""

from datetime import date
from decimal import Decimal, InvalidOperation

import pycountry

from billing_project.shared.errors import raise_if_invalid
from tax.models import TaxKind, TaxRate, TaxRegistration


def _clean_place(country: str, region: str, errors: dict) -> tuple[str, str]:
    country = (country or "").strip().upper()
    if len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
        errors.setdefault("country", []).append("Must be an ISO 3166-1 alpha-2 country code.")
    region = (region or "").strip().upper()
    if region.startswith(f"{country}-"):
        region = region[len(country) + 1 :]
    if len(region) > 3:
        errors.setdefault("region", []).append("At most 3 characters (the ISO 3166-2 suffix).")
    return country, region


def tax_rate_errors(*, country: str, region: str, rate, valid_from: date) -> dict:
    errors: dict = {}
    country, region = _clean_place(country, region, errors)
    try:
        rate = Decimal(str(rate))
        if not (0 <= rate <= 100):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["rate"] = ["A percent between 0 and 100."]
    if TaxRate.objects.filter(country=country, region=region, valid_from=valid_from).exists():
        errors["valid_from"] = ["A rate for this place already starts on that day."]
    return errors


def tax_rate_add(
    *, country: str, region: str = "", rate, valid_from: date, tax_name: str = "VAT", source=""
) -> TaxRate:
    """A rate from `valid_from` on (a change entered ahead leaves earlier invoices alone)."""
    raise_if_invalid(
        tax_rate_errors(country=country, region=region, rate=rate, valid_from=valid_from)
    )
    country, region = _clean_place(country, region, {})
    return TaxRate.objects.create(
        country=country,
        region=region,
        rate=rate,
        valid_from=valid_from,
        tax_name=tax_name,
        source=source,
    )


def tax_registration_add(
    *,
    country: str,
    region: str = "",
    kind: str,
    valid_from: date,
    valid_until: date | None = None,
    tax_name: str = "",
    tax_id: str = "",
    notes: str = "",
) -> TaxRegistration:
    raise_if_invalid(
        tax_registration_errors(
            country=country,
            region=region,
            kind=kind,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    )
    country, region = _clean_place(country, region, {})
    return TaxRegistration.objects.create(
        country=country,
        region=region,
        kind=kind,
        valid_from=valid_from,
        valid_until=valid_until,
        tax_name=tax_name,
        tax_id=tax_id,
        notes=notes,
    )


def tax_registration_errors(
    *, country: str, region: str, kind: str, valid_from: date, valid_until: date | None
) -> dict:
    errors: dict = {}
    _clean_place(country, region, errors)
    if kind not in TaxKind.values:
        errors["kind"] = [f"One of {', '.join(TaxKind.values)}."]
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        errors["valid_until"] = ["Must be after valid_from."]
    return errors
