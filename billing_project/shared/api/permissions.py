"""Role checks. 401 for no/bad token, 403 for a role that may not; tenant scoping gives 404."""

from rest_framework.permissions import BasePermission

from billing_project.shared.api.principal import (
    ROLE_STAFF,
    ROLE_TENANT_ADMIN,
    ROLE_TENANT_MEMBER,
    Principal,
)


def principal_of(request) -> Principal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Principal) else None


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not perform this action."

    def has_permission(self, request, view) -> bool:
        principal = principal_of(request)
        return principal is not None and principal.role in self.roles


class IsAuthenticatedPrincipal(_RolePermission):
    roles = (ROLE_STAFF, ROLE_TENANT_ADMIN, ROLE_TENANT_MEMBER)


class IsStaff(_RolePermission):
    roles = (ROLE_STAFF,)


class IsStaffOrTenantAdmin(_RolePermission):
    roles = (ROLE_STAFF, ROLE_TENANT_ADMIN)


class ReadAnyWriteAdmin(BasePermission):
    """Reads for every role; writes for staff and tenant admins (members read only)."""

    message = "Your role may not perform this action."

    def has_permission(self, request, view) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return principal.role in (ROLE_STAFF, ROLE_TENANT_ADMIN)
