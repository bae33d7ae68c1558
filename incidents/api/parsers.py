"""The one reader of JSON bodies for the whole API: a size limit (413 above it),
and a 400 for anything the API could not go on with (malformed or non-standard
JSON, too deep, unstorable numbers or text)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# NUL and lone surrogates are valid in JSON text but cannot be stored: PostgreSQL
# text and jsonb refuse NUL, and UTF-8 has no encoding for a lone surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Deeper than any body the API takes (an Alertmanager payload is 4 levels, and
# PagerDuty's free-form custom details get generous room). A deeper one would cost
# every later step that walks it (validation, copies, the jsonb write) stack and
# time; at about a thousand levels Python's own parser runs out of stack.
MAX_DEPTH = 32


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are Python's extensions, not JSON (RFC 8259), and no
    # jsonb column can hold them.
    raise ValueError(f"{name} is not a JSON number")


def _path(trail: tuple[Any, ...] | None) -> str:
    """``body.alerts[0].labels`` from the linked (parent, key) trail of a value."""
    keys = []
    while trail is not None:
        trail, key = trail
        keys.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "body" + "".join(reversed(keys))


def _first_problem(data: Any) -> str | None:
    """Why the parsed body cannot be taken, if it cannot: nested deeper than
    ``MAX_DEPTH``, a number too large for a float (``1e400`` reads as infinity),
    or text that no column could hold. One pass with a stack of its own, so no
    shape of body can exhaust the interpreter's."""
    pending: list[tuple[Any, tuple[Any, ...] | None, int]] = [(data, None, 0)]
    while pending:
        value, trail, depth = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return (
                    f"Text with a NUL character or a lone surrogate at {_path(trail)}."
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"A number too large to store at {_path(trail)}."
        elif isinstance(value, dict | list):
            if depth == MAX_DEPTH:
                return f"The body is nested more than {MAX_DEPTH} levels deep."
            if isinstance(value, dict):
                for key, item in value.items():
                    if _UNSTORABLE.search(key):
                        return (
                            "Text with a NUL character or a lone surrogate in a key "
                            f"at {_path(trail)}."
                        )
                    pending.append((item, (trail, key), depth + 1))
            else:
                for index, item in enumerate(value):
                    pending.append((item, (trail, index), depth + 1))
    return None


class BoundedJSONParser(BaseParser):
    """Reads at most ``API_MAX_BODY_BYTES`` (+1, to notice more) whatever the
    Content-Length says, so a large or endless body costs no more than that; and
    refuses, with a 400 rather than a 500 later, what the rest of the API could
    not handle: NaN and Infinity, numbers beyond a float's range, bodies nested
    deeper than ``MAX_DEPTH``, and text that no database column could hold.

    Not a subclass of DRF's ``JSONParser``: DRF reads the whole body of those into
    memory before they see it (refusing past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with
    Django's HTML 400), where this one reads from the stream itself."""

    media_type = "application/json"

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
            data = json.loads(
                body.decode(settings.DEFAULT_CHARSET),
                parse_constant=_refuse_constant,
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from None
        except RecursionError:
            raise exceptions.ParseError(
                f"The body is nested more than {MAX_DEPTH} levels deep."
            ) from None
        if problem := _first_problem(data):
            raise exceptions.ParseError(problem)
        return data
