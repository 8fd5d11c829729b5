"""orjson for the hot JSON paths (usage ingestion sends up to 10 MB of JSON)."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class FastJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            return {}
        if b"\\u0000" in raw:
            raise ParseError("NUL characters (\\u0000) are not allowed.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
