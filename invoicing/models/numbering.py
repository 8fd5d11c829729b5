from django.db import models


class DocumentType(models.TextChoices):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class NumberSequence(models.Model):
    """Gapless counter per (seller, document type, year); read and bumped under a row lock."""

    seller = models.CharField(max_length=64)
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "document_type", "year"], name="number_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.seller} {self.document_type} {self.year}: {self.last_value}"
