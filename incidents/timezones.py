"""Every page in the reader's time zone: their profile's (else the service's
``TIME_ZONE``), kept in the session at login so a request costs no query for it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from incidents.models import Profile

SESSION_KEY = "time_zone"


def remember_time_zone(request: HttpRequest, profile: Profile | None) -> None:
    request.session[SESSION_KEY] = profile.time_zone if profile else ""
    _activate(request.session[SESSION_KEY])


@receiver(user_logged_in)
def _on_login(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    if request is None or not hasattr(request, "session"):
        return
    remember_time_zone(request, Profile.objects.filter(user=user).first())


def _activate(name: str) -> None:
    if not name:
        timezone.deactivate()
        return
    try:
        timezone.activate(zoneinfo.ZoneInfo(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class TimeZoneMiddleware:
    """Activate the signed-in person's time zone for the request (from the
    session; nothing is read from the database)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # Without a session cookie nobody is signed in: not touching the session
        # keeps public pages free of "Vary: Cookie" (the status page is cached).
        signed = settings.SESSION_COOKIE_NAME in request.COOKIES
        name = ""
        if signed and session is not None:
            try:
                name = session.get(SESSION_KEY, "")
            except DatabaseError:
                # The database is away: the view meets it too, and answers 503
                # (itsm.errors); an error here would be a 500 instead.
                name = ""
        _activate(name)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
