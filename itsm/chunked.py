"""Request bodies sent with ``Transfer-Encoding: chunked`` (no Content-Length).

Django reads exactly Content-Length bytes of a body, so without one it reads
nothing: a monitoring tool that streams its JSON would be told its alert was empty.
gunicorn decodes the chunks and marks the input as ending by itself
(``wsgi.input_terminated``, as the WSGI servers that support chunked bodies do), so
this wrapper reads such a body before Django sees it, up to one byte past
``REQUEST_BODY_MAX_BYTES``, and states its length. Each view then applies its own
size rule as for any body (the API's 413, the portal's): a larger one is refused
having cost no more than the limit. Past a mebibyte it waits on disk, not in memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_READ_SIZE = 64 * 1024
_IN_MEMORY_BYTES = 1024 * 1024


def is_chunked_without_length(environ: dict[str, Any]) -> bool:
    return (
        not environ.get("CONTENT_LENGTH")
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        and bool(environ.get("wsgi.input_terminated"))
    )


class ChunkedBodyMiddleware:
    """WSGI middleware: give a chunked body a Content-Length (see the module)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not is_chunked_without_length(environ):
            return self.app(environ, start_response)
        limit = settings.REQUEST_BODY_MAX_BYTES + 1
        body = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES)
        stream = environ["wsgi.input"]
        length = 0
        while length < limit:
            chunk = stream.read(min(_READ_SIZE, limit - length))
            if not chunk:
                break
            body.write(chunk)
            length += len(chunk)
        body.seek(0)
        # The body is an unlinked temporary file: it goes when the request does.
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(length)
        return self.app(environ, start_response)
