"""Base API views: every POST honours Idempotency-Key; helpers for tenant scoping."""

from uuid import UUID

from rest_framework import generics
from rest_framework.views import APIView

from billing_project.shared.api import idempotency
from billing_project.shared.api.permissions import principal_of
from billing_project.shared.errors import NotFound, ValidationFailed


class IdempotentPostMixin:
    _idempotency_record = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get("Idempotency-Key")
        principal = principal_of(request)
        if request.method == "POST" and key and principal is not None:
            self._idempotency_record = idempotency.idempotency_begin(
                scope=principal.owner_scope,
                key=key,
                method=request.method,
                path=request.path,
                body=request._request.body,
            )

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            self._replayed = idempotency.replay_response(exc.record)
            return self._replayed
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(self, "_replayed", None) is response:
            return response
        response = super().finalize_response(request, response, *args, **kwargs)
        record = self._idempotency_record
        if record is not None:
            self._idempotency_record = None
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            idempotency.idempotency_complete(record=record, response=response)
        return response


class BillingAPIView(IdempotentPostMixin, APIView):
    pass


class BillingGenericAPIView(IdempotentPostMixin, generics.GenericAPIView):
    pass


def parse_uuid(value, *, field: str = "id", not_found: bool = False) -> UUID:
    """A malformed UUID is a 400 (or a 404 for path ids), never a 500."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        if not_found:
            raise NotFound("Not found.") from None
        raise ValidationFailed(
            f"{field} must be a UUID.", errors={field: ["Must be a valid UUID."]}
        ) from None


def tenant_scope(request, requested_tenant_id=None) -> UUID | None:
    """The tenant a request may act on: its own for tenant tokens; any (or all) for staff.

    A tenant token naming another tenant gets 404, never 403: do not reveal it exists.
    """
    principal = principal_of(request)
    if requested_tenant_id in ("", None):
        return None if principal.is_staff else principal.tenant_id
    tenant_id = parse_uuid(requested_tenant_id, field="tenant_id")
    if not principal.is_staff and tenant_id != principal.tenant_id:
        raise NotFound("Tenant not found.")
    return tenant_id
