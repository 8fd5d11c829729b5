"""Request fields whose OpenAPI schema states what the service accepts (ISO codes, IANA zones,
decimal quantities), so that a schema-valid request is a valid one. The services validate."""

import pycountry
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions import validation

COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
CURRENCY_CODES = sorted(currency.alpha_3.lower() for currency in pycountry.currencies)


@extend_schema_field(
    {
        "type": "string",
        "enum": COUNTRY_CODES,
        "description": "ISO 3166-1 alpha-2 country code, e.g. US or DE (any case).",
    }
)
class CountryField(StrictCharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": CURRENCY_CODES,
        "description": "ISO 4217 currency code, e.g. usd (any case).",
    }
)
class CurrencyField(StrictCharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": sorted(validation.timezones()),
        "description": "IANA time zone name, e.g. UTC or Europe/Berlin.",
    }
)
class TimezoneField(StrictCharField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": 10**12},
            {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,6})?$"},
        ],
        "description": "A number (or a decimal string) from 0 to 10^12, at most 6 decimals.",
    }
)
class QuantityField(serializers.DecimalField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 100},
            {
                "type": "string",
                "pattern": r"^(100(\.00?)?|[1-9]\d?(\.\d{1,2})?|0?\.(0[1-9]|[1-9]\d?))$",
            },
        ],
        "description": "A percentage in (0, 100], at most 2 decimals.",
    }
)
class PercentField(serializers.DecimalField):
    pass
