"""`Authorization: Bearer <token>` -> Principal. Tokens are looked up by their SHA-256 hash."""

from datetime import timedelta

from rest_framework import authentication, exceptions

from billing_project.shared.api.principal import Principal
from billing_project.shared.clock import utcnow
from subscriptions.models import ApiToken
from subscriptions.services.tokens import hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(parts[1]), revoked_at__isnull=True)
            .only(
                "id",
                "role",
                "tenant_id",
                "user_id",
                "last_used_at",
                "user__username",
                "user__is_active",
            )
            .first()
        )
        if token is None or (token.user_id and not token.user.is_active):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = utcnow()
        # One write a minute at most: last_used_at is for humans, not for auditing each call.
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        principal = Principal(
            role=token.role,
            token_id=token.pk,
            tenant_id=token.tenant_id,
            user_id=token.user_id,
            username=token.user.username if token.user_id else "",
        )
        return (token.user if token.user_id else principal, principal)

    def authenticate_header(self, request):
        return self.keyword


# Registers the OpenAPI description of this class; imported here (not at start-up) to keep
# management commands fast: DRF loads this module only when a view first runs.
from subscriptions import schema  # noqa: E402, F401
