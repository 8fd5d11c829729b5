"""The default tax tables: the seller's US nexus states, the EU standard VAT rates, UK VAT.

Sources (compiled 2026-12-02; each row also names its source):
- EU: European Commission, DG TAXUD, "VAT rates applied in the Member States of the European
  Union, situation at 1st January 2025" (taxation-customs.ec.europa.eu, "VAT rates"), standard
  rates, valid from 2025-01-01 (the list's date; FI 25.5 % since 2024-09-01 and SK 23 % since
  2025-01-01 are in it). Later changes, entered as their own rows: Estonia 24 % from
  2025-07-01 (Estonian Tax and Customs Board), Romania 21 % from 2025-08-01
  (Law 141/2025).
- UK: HM Revenue & Customs, "VAT rates" (gov.uk/vat-rates), standard rate 20 %.
- US: the seller's nexus states and their state rates (product.md section 10): CA 8.25
  (the statewide base rate with the uniform local add-on), NY 8.00, TX 6.25, WA 6.50. Local
  district taxes are not modelled.
Staff edit these rows in the admin (Tax > Tax rates / Tax registrations); see README "Tax".
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

EU_SOURCE = (
    "European Commission, DG TAXUD, VAT rates applied in the Member States of the European "
    "Union, situation at 1 January 2025"
)
EU_LIST_DATE = date(2025, 1, 1)
EU_STANDARD_RATES = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "22", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
    "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
    "PL": "23", "PT": "23", "RO": "19", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip
EU_CHANGES = [
    ("EE", "24", date(2025, 7, 1), "Estonia: standard rate 24 % from 1 July 2025 (Estonian Tax and Customs Board)"),
    ("RO", "21", date(2025, 8, 1), "Romania: standard rate 21 % from 1 August 2025 (Law 141/2025)"),
]
US_NEXUS = {"CA": "8.25", "NY": "8.00", "TX": "6.25", "WA": "6.50"}
US_SOURCE = "Seller nexus defaults (product.md section 10): state rate"
START = date(2025, 1, 1)


def load(apps, schema_editor):
    TaxRate = apps.get_model("tax", "TaxRate")
    TaxRegistration = apps.get_model("tax", "TaxRegistration")
    rows = [
        TaxRate(
            country=country,
            region="",
            rate=Decimal(rate),
            valid_from=EU_LIST_DATE,
            tax_name="VAT",
            source=EU_SOURCE,
        )
        for country, rate in EU_STANDARD_RATES.items()
    ]
    rows += [
        TaxRate(
            country=country, region="", rate=Decimal(rate), valid_from=day, tax_name="VAT",
            source=source,
        )
        for country, rate, day, source in EU_CHANGES
    ]
    rows.append(
        TaxRate(
            country="GB",
            region="",
            rate=Decimal("20"),
            valid_from=START,
            tax_name="VAT",
            source="HMRC, VAT rates (gov.uk/vat-rates): standard rate",
        )
    )
    rows += [
        TaxRate(
            country="US",
            region=state,
            rate=Decimal(rate),
            valid_from=START,
            tax_name="Sales tax",
            source=US_SOURCE,
        )
        for state, rate in US_NEXUS.items()
    ]
    TaxRate.objects.bulk_create(rows)
    TaxRegistration.objects.bulk_create(
        TaxRegistration(
            country="US",
            region=state,
            kind="sales_tax",
            tax_name="Sales tax",
            valid_from=START,
            notes="Default nexus state",
        )
        for state in US_NEXUS
    )


def unload(apps, schema_editor):
    apps.get_model("tax", "TaxRate").objects.all().delete()
    apps.get_model("tax", "TaxRegistration").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("tax", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
