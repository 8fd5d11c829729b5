from django.conf import settings
from django.db import models

from billing_project.shared.api.principal import ROLES


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 hash is stored; the prefix identifies it to humans."""

    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    tenant = models.ForeignKey(
        "subscriptions.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="api_token_owner_matches_role",
                condition=(
                    models.Q(role="staff", user__isnull=False, tenant__isnull=True)
                    | models.Q(
                        role__in=["tenant_admin", "tenant_member"],
                        tenant__isnull=False,
                        user__isnull=True,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
