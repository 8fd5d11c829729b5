import hashlib
import secrets
from datetime import datetime

from django.contrib.auth import get_user_model

from billing_project.shared.api.principal import ROLE_STAFF, ROLE_TENANT_ADMIN, ROLE_TENANT_MEMBER
from billing_project.shared.errors import ValidationFailed
from subscriptions.models import ApiToken, Tenant

TOKEN_PREFIX = "lvb_"
PREFIX_LENGTH = 12


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def api_token_create(
    *, role: str, now: datetime, tenant: Tenant | None = None, user=None, name: str = ""
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the raw token, which is never stored or shown again."""
    if role == ROLE_STAFF:
        if user is None or tenant is not None:
            raise ValidationFailed("A staff token belongs to a staff user, not a tenant.")
    elif role in (ROLE_TENANT_ADMIN, ROLE_TENANT_MEMBER):
        if tenant is None or user is not None:
            raise ValidationFailed("A tenant token belongs to a tenant.")
    else:
        raise ValidationFailed(f"Unknown role {role!r}.")
    raw = _new_raw_token()
    token = ApiToken.objects.create(
        prefix=raw[:PREFIX_LENGTH],
        token_hash=hash_token(raw),
        role=role,
        tenant=tenant,
        user=user,
        name=name,
        created_at=now,
    )
    return token, raw


def staff_user_get_or_create(*, username: str):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def api_token_revoke(*, token: ApiToken, now: datetime) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return token
