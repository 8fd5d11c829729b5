"""Domain errors. Services raise these; the API layer maps them to status codes and JSON."""


class BillingError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors


class ValidationFailed(BillingError):
    status_code = 400
    code = "validation_error"


def raise_if_invalid(errors: dict[str, list[str]]) -> None:
    """A service's collected field errors, if any, as one 400 naming the first."""
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"Invalid input: {first}: {errors[first][0]}", errors=errors)


class NotFound(BillingError):
    status_code = 404
    code = "not_found"


class PermissionDeniedError(BillingError):
    status_code = 403
    code = "permission_denied"


class Conflict(BillingError):
    status_code = 409
    code = "conflict"


class DependencyUnavailable(BillingError):
    """A dependency (Stripe, Redis, ...) is down; nothing was changed."""

    status_code = 503
    code = "service_unavailable"
