"""Enterprise contracts: one row per contract, one immutable version per change of its terms."""

import uuid

from django.db import models


class Contract(models.Model):
    """A tenant's negotiated terms for [starts_at, ends_at) (renewed a year at a time when its
    current version says `auto_renewal`). Its terms live in `ContractVersion`; `version` is the
    one in force. The dates are the tenant's local dates; the instants are what billing reads."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="contracts"
    )
    starts_at = models.DateTimeField(help_text="In force from this instant (creation by default)")
    ends_at = models.DateTimeField(help_text="End of the first term (renewals extend it)")
    start_date = models.DateField()
    end_date = models.DateField(help_text="The first day after the term, tenant's time zone")
    version = models.PositiveIntegerField(default=1)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "id"]
        indexes = [models.Index(fields=["tenant", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                name="contract_starts_before_end",
                condition=models.Q(starts_at__lt=models.F("ends_at")),
            )
        ]

    def __str__(self) -> str:
        return f"contract {str(self.id)[:8]} v{self.version}"


class ContractVersion(models.Model):
    """The terms as they stood from `created_at` on: the guide's `contract_terms` object,
    normalised (decimals as strings, payment terms as `net_60`). Never changed; each invoice
    priced by a contract points at the version it used."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    terms = models.JSONField()
    end_date = models.DateField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["contract", "version"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "version"], name="contract_version_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.version}"
