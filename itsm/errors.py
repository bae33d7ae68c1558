"""Answers for what goes wrong outside a view's own handling.

- Under ``/api/`` every error is JSON (``{"detail": ..., "code": ...}``), as the
  API's own exception handler answers: a client that reads JSON never gets one of
  Django's HTML pages, not even for a 500. Elsewhere Django's pages stay.
- When the database cannot be reached, the API answers 503 JSON with
  ``Retry-After`` (alert senders retry a 5xx; a 500 would say the request was at
  fault) and pages answer a plain 503 page that needs nothing from the database.
  Nothing is kept from the failure: the next request connects afresh, so the
  service recovers by itself when the database is back.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# How long a client is asked to wait before sending again while the database is
# away: long enough not to pile retries onto a restart, short enough for alerts.
DATABASE_RETRY_AFTER_SECONDS = 15

# SQLSTATE classes that mean "the server is not there for us" rather than "this
# statement failed": connection exceptions, and a server shutting down, crashed or
# still starting. A deadlock or a timeout is an OperationalError too, but not this.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database cannot be reached (no connection, or a
    connection lost), as opposed to a statement that failed on a working one."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if isinstance(exc, InterfaceError):  # a connection that is already gone
        return True
    sqlstate = getattr(exc.__cause__, "pgcode", None)
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        response: HttpResponse = api_error(
            503,
            "The database is unavailable; send the request again shortly.",
            "database_unavailable",
        )
    else:
        # Rendered without the request: no context processor may touch the
        # database that just failed.
        response = HttpResponse(
            loader.render_to_string("503.html"),
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a view's "database unreachable" error into a 503 (see the module's
    docstring). Errors raised outside views get the same answer from
    ``server_error``; this catches them first, and with DEBUG on too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        logger.error(
            "database unavailable for %s %s: %r",
            request.method,
            request.path,
            exception,
        )
        return database_unavailable_response(request)


# ---------------------------------------------------------------- error handlers
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(400, "The request is malformed.", "bad_request")
    return defaults.bad_request(request, exception)


class ForbiddenOnOneLine(logging.Filter):
    """On the ``django.request`` logger: a refused request (403) is an everyday
    event (a requester following a staff link), logged as its one line
    "Forbidden (Permission denied): /path" without the traceback Django adds."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(
            403, "You do not have permission to do this.", "permission_denied"
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still at hand.
    if database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    if is_api(request):
        return api_error(
            500, "Something went wrong on our side; it has been logged.", "server_error"
        )
    return defaults.server_error(request)
