"""Who is calling: the result of authenticating an API token."""

from dataclasses import dataclass
from uuid import UUID

ROLE_STAFF = "staff"
ROLE_TENANT_ADMIN = "tenant_admin"
ROLE_TENANT_MEMBER = "tenant_member"
ROLES = (ROLE_STAFF, ROLE_TENANT_ADMIN, ROLE_TENANT_MEMBER)


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    token_id: int
    tenant_id: UUID | None = None
    user_id: int | None = None
    username: str = ""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @property
    def is_staff(self) -> bool:
        return self.role == ROLE_STAFF

    @property
    def pk(self) -> str:
        # DRF's throttles key on request.user.pk.
        return f"token:{self.token_id}"

    @property
    def owner_scope(self) -> str:
        """Idempotency keys are scoped per owner: a staff user or a tenant."""
        return f"user:{self.user_id}" if self.is_staff else f"tenant:{self.tenant_id}"

    @property
    def actor(self) -> str:
        return f"staff:{self.username}" if self.is_staff else f"{self.role}:{self.tenant_id}"
