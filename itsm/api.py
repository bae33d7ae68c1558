"""API-wide pieces: the exception handler and the pagination.

Domain errors become HTTP answers here, once: ``ValidationError`` 400 with field
errors, ``PermissionDenied`` 403, ``IncidentConflict`` and the lifecycle's own
conflicts 409 with the reason, ``ReportLimitReached`` 429 with ``Retry-After``. Anything else unexpected stays a 500, logged, and
answered in JSON by ``itsm.errors``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from incidents.exceptions import IncidentConflict, ReportLimitReached
from incidents.models import MAX_ID


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, ReportLimitReached):
        exc = Throttled(wait=exc.retry_after, detail=exc.message)
    if isinstance(exc, IncidentConflict):
        return Response(
            {"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        return Response(
            {"detail": str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT
        )
    return drf_exception_handler(exc, context)


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: constant cost on any page, and stable
    while new rows arrive (no OFFSET, no skipped or repeated rows)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Any) -> Any:
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor else None
        if position is not None and not (
            position.isdigit() and int(position) <= MAX_ID
        ):
            raise NotFound(self.invalid_cursor_message)
        return cursor
