"""Every API error is `{"code", "message", "errors"?}` JSON, whoever raised it."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from billing_project.shared.errors import BillingError

log = logging.getLogger(__name__)

_DRF_CODES = {
    drf.ParseError: "parse_error",
    drf.AuthenticationFailed: "authentication_failed",
    drf.NotAuthenticated: "not_authenticated",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}


DATABASE_UNAVAILABLE = ("service_unavailable", "The database is unavailable; nothing was changed.")


def error_body(code: str, message: str, errors=None) -> dict:
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            return f"{field}: {_first_message(value)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def billing_exception_handler(exc, context):
    if isinstance(exc, BillingError):
        return Response(error_body(exc.code, exc.message, exc.errors), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("request_too_large", "Request body is too large."), status=413)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            error_body("validation_error", "Invalid input: " + _first_message(detail), detail),
            status=400,
        )
    if isinstance(exc, drf.APIException):
        code = _DRF_CODES.get(type(exc), getattr(exc, "default_code", "error"))
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (connection dropped, server restarting): its
        # transaction rolled back, so nothing was changed and the request may be sent again.
        log.error("Database unavailable: %s", exc, exc_info=exc)
        return Response(error_body(*DATABASE_UNAVAILABLE), status=503)
    log.exception("Unhandled API error", exc_info=exc)
    return Response(error_body("server_error", "Internal server error."), status=500)
