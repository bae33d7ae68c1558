"""JSON bodies with a size limit, answered 413 above it."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# NUL and lone surrogates are valid in JSON text but cannot be stored: PostgreSQL
# text and jsonb refuse NUL, and UTF-8 has no encoding for a lone surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _find_unstorable(value: Any, path: str = "body") -> str | None:
    """The path of the first string (key or value) that cannot be stored, if any."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                return f"{path} key {key!r}"
            if found := _find_unstorable(item, f"{path}.{key}"):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _find_unstorable(item, f"{path}[{index}]"):
                return found
    return None


class BoundedJSONParser(JSONParser):
    """Reads at most ``API_MAX_BODY_BYTES`` (+1, to notice more) whatever the
    Content-Length says, so a large or endless body costs no more than that; and
    refuses text that no database column could hold (400, not a 500 later)."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        declared = (parser_context or {}).get("request")
        length = declared.META.get("CONTENT_LENGTH") if declared is not None else None
        if length and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is over {limit} bytes.")
        try:
            data = json.loads(body.decode(settings.DEFAULT_CHARSET))
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from None
        if where := _find_unstorable(data):
            raise exceptions.ParseError(
                f"Text with a NUL character or a lone surrogate at {where}."
            )
        return data
