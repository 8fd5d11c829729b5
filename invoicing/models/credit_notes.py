import uuid

from django.db import models

from invoicing.models.invoices import DeliveryStatus


class CreditNote(models.Model):
    """A correction to a finalized invoice, numbered in its own series (CN-YYYY-NNNNNN)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="credit_notes"
    )
    tenant = models.ForeignKey("subscriptions.Tenant", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, unique=True)
    currency = models.CharField(max_length=3)
    total = models.BigIntegerField()
    tax = models.BigIntegerField(
        default=0, help_text="The part of the total that reverses the invoice's tax"
    )
    reason = models.CharField(max_length=500, blank=True)
    issued_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    pdf_file = models.FileField(upload_to="credit_notes/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    pdf_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(name="credit_note_positive", condition=models.Q(total__gt=0))
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["credit_note", "position"]

    def __str__(self) -> str:
        return self.description
