"""`Authorization: Bearer <token>` -> Principal. Tokens are looked up by their SHA-256 hash."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework import authentication, exceptions

from billing_project.shared.api.principal import Principal
from billing_project.shared.clock import utcnow
from subscriptions import sql
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
        with connection.cursor() as cursor:
            cursor.execute(sql.TOKEN_LOOKUP, [hash_token(parts[1])])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        token_id, role, tenant_id, user_id, last_used_at, username, is_active = row
        if user_id and not is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = utcnow()
        # One write a minute at most: last_used_at is for humans, not for auditing each call.
        if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        principal = Principal(
            role=role,
            token_id=token_id,
            tenant_id=tenant_id,
            user_id=user_id,
            username=username if user_id else "",
        )
        if not user_id:
            return (principal, principal)
        # The user as `.only(...)` would load it: these fields, the others deferred.
        user = get_user_model().from_db(
            connection.alias, sql.USER_FIELDS, (user_id, username, is_active)
        )
        return (user, principal)

    def authenticate_header(self, request):
        return self.keyword


# Registers the OpenAPI description of this class; imported here (not at start-up) to keep
# management commands fast: DRF loads this module only when a view first runs.
from subscriptions import schema  # noqa: E402, F401
