"""Errors the incident services raise besides ``ValidationError`` (bad input, 400)
and ``PermissionDenied`` (403)."""

from __future__ import annotations


class IncidentConflict(Exception):
    """The incident's state does not allow this now, or it changed since the caller
    read it (HTTP 409). ``code`` says which: ``invalid_transition``, ``final``,
    ``stale``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ReportLimitReached(Exception):
    """A requester sent as many reports as one hour allows (HTTP 429).
    ``retry_after`` is the number of seconds until the next one is taken."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
