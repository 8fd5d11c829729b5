"""Invoices, their lines, manual payments. Money is integer minor units; unit prices Decimal."""

import uuid

from django.db import models


class InvoiceKind(models.TextChoices):
    SUBSCRIPTION = "subscription"
    PRORATION = "proration"
    CUSTOM = "custom"
    FINAL = "final"
    CONSOLIDATED = "consolidated"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class DeliveryStatus(models.TextChoices):
    """State of an after-commit side effect (PDF render, email)."""

    NONE = "none"
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


PERIOD_KINDS = ("subscription", "final")


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="invoices"
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    subscription_change = models.OneToOneField(
        "subscriptions.SubscriptionChange",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proration_invoice",
    )
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, db_index=True
    )
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    subtotal = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_credited = models.BigIntegerField(default=0)
    amount_due = models.BigIntegerField(default=0)
    issued_at = models.DateTimeField(null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    requested_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Due date asked for on a custom invoice"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    uncollectible_at = models.DateTimeField(null=True, blank=True)
    payment_terms = models.CharField(max_length=20, blank=True)
    contract_version = models.ForeignKey(
        "subscriptions.ContractVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        help_text="The contract version that priced this invoice",
    )
    billing_day = models.DateField(
        null=True, blank=True, help_text="A consolidated invoice's billing day (parent's timezone)"
    )
    custom_fields = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    tax_decision = models.JSONField(null=True, blank=True)
    pdf_file = models.FileField(upload_to="invoices/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    pdf_error = models.TextField(blank=True)
    email_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    email_error = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One period invoice per (subscription, period start). The final invoice bills the
            # arrears of the period whose fee the previous period invoice already billed (same
            # period start), so it has its own key: one final invoice per subscription.
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=models.Q(kind="subscription"),
                name="invoice_one_per_subscription_period",
            ),
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(kind="final"),
                name="invoice_one_final_per_subscription",
            ),
            # One consolidated invoice per parent, billing day and currency.
            models.UniqueConstraint(
                fields=["tenant", "billing_day", "currency"],
                condition=models.Q(kind="consolidated"),
                name="invoice_one_consolidated_per_day",
            ),
            models.CheckConstraint(
                name="invoice_proration_has_change",
                condition=~models.Q(kind="proration") | models.Q(subscription_change__isnull=False),
            ),
            models.CheckConstraint(
                name="invoice_number_when_finalized",
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return self.number or f"draft {str(self.id)[:8]}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    def amount_due_refresh(self) -> int:
        """The one `amount_due` rule: the total less what was paid and credited, never below
        zero; nothing on a void invoice. Sets the field (the caller saves) and returns it."""
        if self.status == InvoiceStatus.VOID:
            self.amount_due = 0
        else:
            self.amount_due = max(0, self.total - self.amount_paid - self.amount_credited)
        return self.amount_due


class LineKind(models.TextChoices):
    PLAN_FEE = "plan_fee"
    PRORATION = "proration"
    OVERAGE = "overage"
    DISCOUNT = "discount"
    CUSTOM = "custom"
    TAX = "tax"
    TRUE_UP = "true_up"
    CONTRACT_FEE = "contract_fee"
    SEATS = "seats"


class InvoiceSection(models.Model):
    """One child's charge on its parent's consolidated invoice: what its own invoice would have
    been (lines, subtotal, tax by the child's location), which the child never receives."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="sections")
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="invoice_sections"
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_sections",
    )
    source_kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    position = models.PositiveIntegerField(default=0)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    subtotal = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    tax_decision = models.JSONField(null=True, blank=True)
    contract_version = models.ForeignKey(
        "subscriptions.ContractVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_sections",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            # The backstops the period invoices have, for the charges billed as sections.
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=models.Q(source_kind="subscription"),
                name="section_one_per_subscription_period",
            ),
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(source_kind="final"),
                name="section_one_final_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"section {self.position} of {self.invoice_id}"


class InvoiceLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    section = models.ForeignKey(
        InvoiceSection, null=True, blank=True, on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=24, decimal_places=6, default=1)
    unit_price = models.DecimalField(max_digits=24, decimal_places=6, default=0)
    amount = models.BigIntegerField()
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return self.description


class PaymentMethodKind(models.TextChoices):
    BANK_TRANSFER = "bank_transfer"
    CHECK = "check"
    CASH = "cash"
    CARD = "card"
    OTHER = "other"


class ManualPayment(models.Model):
    """A payment recorded by finance staff (transfer, cheque, ...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField()
    method = models.CharField(max_length=20, choices=PaymentMethodKind.choices)
    reference = models.CharField(max_length=200, blank=True)
    paid_on = models.DateField()
    recorded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(name="manual_payment_positive", condition=models.Q(amount__gt=0))
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_on}"
