import decimal
import uuid

import orjson
from rest_framework.renderers import BaseRenderer, JSONRenderer


def json_default(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError


class FastJSONRenderer(JSONRenderer):
    """orjson renderer. Datetimes are rendered by serializers as ISO 8601 `...Z` strings."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=json_default, option=orjson.OPT_NON_STR_KEYS)


class CsvRenderer(BaseRenderer):
    """`?format=csv` or `Accept: text/csv`: the view returns the CSV text; errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode()
        return orjson.dumps(data, default=json_default)  # an error body


class PdfRenderer(BaseRenderer):
    """`?format=pdf` or `Accept: application/pdf`: the view returns the PDF bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return orjson.dumps(data, default=json_default)  # an error body
