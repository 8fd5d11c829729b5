"""Reads of the tax tables, returned as the pure module's plain values."""

import hashlib

from tax.decision import Rate, Registration, TaxTable
from tax.models import TaxRate, TaxRegistration


def tax_table() -> TaxTable:
    """Every rate and registration (a few dozen rows, two queries) with a version: a digest of
    the rows, stored on each invoice's decision to say which table decided it."""
    rates = tuple(
        Rate(
            country=r.country,
            region=r.region,
            rate=r.rate,
            valid_from=r.valid_from,
            tax_name=r.tax_name,
            source=r.source,
        )
        for r in TaxRate.objects.order_by("country", "region", "valid_from")
    )
    registrations = tuple(
        Registration(
            country=r.country,
            region=r.region,
            kind=r.kind,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            tax_name=r.tax_name,
            tax_id=r.tax_id,
        )
        for r in TaxRegistration.objects.order_by("country", "region", "valid_from")
    )
    digest = hashlib.sha256()
    for r in rates:
        digest.update(f"R|{r.country}|{r.region}|{r.rate.normalize()}|{r.valid_from}\n".encode())
    for g in registrations:
        digest.update(
            f"G|{g.country}|{g.region}|{g.kind}|{g.valid_from}|{g.valid_until}\n".encode()
        )
    return TaxTable(rates=rates, registrations=registrations, version=digest.hexdigest()[:12])
