"""The OpenAPI schema documents every answer an operation can give, errors included.

Every error is `{"code", "message", "errors"?}` (exceptions.billing_exception_handler); which
statuses an operation can answer follows from what the API layer does for every request.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Stable machine-readable code."),
        "message": serializers.CharField(),
        "errors": serializers.DictField(
            required=False,
            help_text="Validation errors by field (400 `validation_error` only).",
        ),
    },
)

_DESCRIPTIONS = {
    "400": "Bad input (`validation_error`, `parse_error`, ...).",
    "401": "No or an unknown API token.",
    "403": "The token's role may not do this.",
    "404": "Not found (or not the token's tenant).",
    "409": "The current state does not allow it.",
    "413": "The body is too large.",
    "503": "A dependency is down; nothing was changed.",
}
# Any request can be malformed, unauthenticated, forbidden, name a tenant the token may not see
# (404) or meet a dependency that is down; only a body can be too large; any write can meet a
# state that refuses it.
_ALWAYS = ("400", "401", "403", "404", "503")
_WITH_BODY = ("409", "413")


class BillingAutoSchema(AutoSchema):
    """A view lists in `request_body_required` the methods whose body may not be empty when
    drf-spectacular cannot tell (a oneOf request, or a serializer of optional fields of which
    one must be sent)."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body and self.method.lower() in getattr(self.view, "request_body_required", ()):
            body["required"] = True
        return body

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(_ALWAYS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += _WITH_BODY
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses
