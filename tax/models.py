"""Tax tables as data: the seller's registrations and the rates, each with its history.

A rate row applies from its `valid_from` (inclusive) until the next row of the same
jurisdiction: a change is entered ahead as a new row and never alters a finalized invoice (the
invoice keeps its decision). A registration row says where the seller collects tax (a US nexus
state, a GST registration...); EU and UK VAT on digital services follow from the law and need
only rates (see tax/decision.py)."""

from django.db import models


class TaxKind(models.TextChoices):
    SALES_TAX = "sales_tax", "Sales tax"
    VAT = "vat", "VAT / GST"


class TaxRate(models.Model):
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 (GR for Greece)")
    region = models.CharField(
        max_length=3, blank=True, help_text="State or province (ISO 3166-2 suffix); blank: all"
    )
    rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="Percent, e.g. 8.25")
    valid_from = models.DateField(help_text="First day the rate applies (invoice date)")
    tax_name = models.CharField(max_length=40, default="VAT", help_text='"VAT", "Sales tax"')
    source = models.CharField(max_length=300, blank=True, help_text="Where the rate comes from")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country", "region", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "valid_from"], name="tax_rate_one_per_day"
            ),
            models.CheckConstraint(
                name="tax_rate_in_range", condition=models.Q(rate__gte=0, rate__lte=100)
            ),
        ]

    def __str__(self) -> str:
        place = f"{self.country}-{self.region}" if self.region else self.country
        return f"{place} {self.rate}% from {self.valid_from}"


class TaxRegistration(models.Model):
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=3, blank=True, help_text="State or province; blank: all")
    kind = models.CharField(max_length=20, choices=TaxKind.choices)
    tax_name = models.CharField(max_length=40, blank=True, help_text='"Sales tax", "GST"')
    tax_id = models.CharField(max_length=64, blank=True, help_text="The seller's number there")
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="Exclusive; blank: open")
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["country", "region", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "valid_from"], name="tax_registration_one_per_day"
            ),
            models.CheckConstraint(
                name="tax_registration_dates",
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        place = f"{self.country}-{self.region}" if self.region else self.country
        return f"{place} {self.get_kind_display()} from {self.valid_from}"
