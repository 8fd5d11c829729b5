"""The billing sub-ledger: a chart of accounts (data), journal entries and their lines.

Entries and lines are immutable: a correction is a new entry. Lines name tenants by id only
(the ledger sits below the apps that own tenants' money documents and knows none of them)."""

import uuid

from django.db import models


class AccountRole(models.TextChoices):
    """What the code posts to; the account's `code` and `name` are data, editable."""

    RECEIVABLE = "receivable"
    STRIPE_CLEARING = "stripe_clearing"
    BANK = "bank"
    DEFERRED_REVENUE = "deferred_revenue"
    TAX_PAYABLE = "tax_payable"
    REFUNDS_PAYABLE = "refunds_payable"
    REVENUE_SUBSCRIPTION = "revenue_subscription"
    REVENUE_USAGE = "revenue_usage"
    DISCOUNTS = "discounts"
    BAD_DEBT = "bad_debt"


class AccountKind(models.TextChoices):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"


class Account(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    role = models.CharField(max_length=40, choices=AccountRole.choices, unique=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ImmutableError(Exception):
    pass


class _Immutable(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("Journal rows are immutable; post a correcting entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Journal rows are immutable; post a correcting entry.")


class JournalEntry(_Immutable):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    posted_at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=40)
    document_type = models.CharField(max_length=40)
    document_id = models.CharField(max_length=64, db_index=True)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["posted_at", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_id", "event"], name="journal_entry_once"
            )
        ]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.event} {self.document_type} {self.document_id}"


class JournalLine(_Immutable):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    tenant_id = models.UUIDField(null=True, blank=True, db_index=True)
    debit = models.BigIntegerField(default=0)
    credit = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    jurisdiction = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(
                name="journal_line_one_side",
                condition=(models.Q(debit__gt=0, credit=0) | models.Q(debit=0, credit__gt=0)),
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} Dr {self.debit} Cr {self.credit}"
