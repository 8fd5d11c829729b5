"""Tenant field validation with pycountry (ISO codes) and python-stdnum (VAT ids, tax.vat_ids)."""

import re
import zoneinfo
from functools import lru_cache

import pycountry

from tax.online import vat_online_check
from tax.vat_ids import vat_id_check


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_country(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("Must be an ISO 3166-1 alpha-2 country code, e.g. US or DE.")
    return code


def clean_state(country: str, value: str) -> str:
    code = (value or "").strip().upper()
    if not code:
        return ""
    if code.startswith(f"{country}-"):
        code = code[len(country) + 1 :]
    # ISO 3166-2 subdivision codes are 1-3 characters after the country (the column holds 3),
    # also for countries pycountry lists no subdivisions for.
    if len(code) > 3:
        raise ValueError(f"Unknown subdivision {code!r} for country {country}.")
    subdivisions = pycountry.subdivisions.get(country_code=country) or []
    if subdivisions and not any(s.code == f"{country}-{code}" for s in subdivisions):
        raise ValueError(f"Unknown subdivision {code!r} for country {country}.")
    return code


def clean_timezone(value: str) -> str:
    if value not in timezones():
        raise ValueError("Must be an IANA timezone, e.g. UTC or Europe/Berlin.")
    return value


def clean_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("Must be an ISO 4217 currency code, e.g. usd.")
    return code.lower()


def clean_vat_id(country: str, value: str) -> str:
    """Checks the format and checksum offline (tax.vat_ids), then online when a check is
    configured (off by default). A VAT id names its own country."""
    return vat_id_check(value, country=country, online=vat_online_check())


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def clean_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("Letters, numbers, underscores or hyphens only.")
    return value
