import uuid

from django.db import models


class PaymentTerms(models.TextChoices):
    DUE_ON_RECEIPT = "due_on_receipt", "Due on receipt"
    NET_30 = "net_30", "Net 30"
    NET_60 = "net_60", "Net 60"


PAYMENT_TERMS_DAYS = {"due_on_receipt": 0, "net_30": 30, "net_60": 60}


class TenantStatus(models.TextChoices):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class ServiceLevel(models.TextChoices):
    FULL = "full"
    DEGRADED = "degraded"
    NONE = "none"


class Tenant(models.Model):
    """A SaaS customer being billed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField("billing email")
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    state = models.CharField(max_length=3, blank=True, help_text="ISO 3166-2 subdivision code")
    postal_code = models.CharField(max_length=20, blank=True)
    vat_id = models.CharField(max_length=32, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="usd")
    payment_terms = models.CharField(
        max_length=20, choices=PaymentTerms.choices, default=PaymentTerms.DUE_ON_RECEIPT
    )
    tax_exempt = models.BooleanField(default=False)
    tax_exempt_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=TenantStatus.choices, default=TenantStatus.ACTIVE, db_index=True
    )
    service_level = models.CharField(
        max_length=20, choices=ServiceLevel.choices, default=ServiceLevel.FULL
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Hierarchy (`POST hierarchies`): on a parent, whether its children's charges go on its
    # consolidated invoices and its card pays them; on a child, its percent of the parent's costs.
    billing_consolidation = models.BooleanField(default=False)
    payment_responsibility = models.BooleanField(default=False)
    cost_allocation = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["country", "status"])]

    def __str__(self) -> str:
        return self.name
