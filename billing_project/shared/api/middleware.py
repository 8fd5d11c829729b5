"""API-wide HTTP behaviour outside DRF: body size limits and JSON for every error."""

import logging

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
_MESSAGES = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "Request body is too large."),
    500: ("server_error", "Internal server error."),
    503: ("service_unavailable", "The database is unavailable; nothing was changed."),
}


def json_error(status: int, code: str | None = None, message: str | None = None) -> HttpResponse:
    default_code, default_message = _MESSAGES.get(status, ("error", "Request failed."))
    body = {"code": code or default_code, "message": message or default_message}
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


class ApiRequestSizeMiddleware:
    """413 before reading a body over the limit: 1 MB, 10 MB for usage/batch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            # NUL cannot be stored or looked up: no path with one names anything (404), and a
            # query parameter with one is bad input (400).
            if "\x00" in request.path:
                return json_error(404)
            query = request.META.get("QUERY_STRING", "")
            if "%00" in query or "\x00" in query:
                return json_error(400, message="NUL characters are not allowed in query strings.")
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_error(400, message="Invalid Content-Length.")
            limit = (
                settings.API_MAX_BATCH_BODY_BYTES
                if request.path.rstrip("/").endswith("/usage/batch")
                else settings.API_MAX_BODY_BYTES
            )
            if length > limit:
                return json_error(413, message=f"Request body exceeds {limit} bytes.")
        return self.get_response(request)


class ApiJsonErrorMiddleware:
    """Django's own 404/405/500 pages become JSON under /api/ (no HTML error pages on the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        # Resource paths have no trailing slash; accept one anyway (schema/ and docs/ keep theirs).
        if (
            path.startswith(API_PREFIX)
            and path.endswith("/")
            and not path.endswith(("/schema/", "/docs/"))
        ):
            request.path_info = path.rstrip("/")
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not response.get("Content-Type", "").startswith("application/problem")
        ):
            return json_error(response.status_code)
        return response

    def process_exception(self, request, exception):
        if request.path.startswith(API_PREFIX):
            if isinstance(exception, OperationalError | InterfaceError):
                log.error("Database unavailable on %s", request.path, exc_info=exception)
                return json_error(503)
            log.exception("Unhandled error on %s", request.path, exc_info=exception)
            return json_error(500)
        return None
