from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from itsm.navigation import nav_items_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the first area their role opens; a user with no role yet
    gets a page saying whom to ask, not an error."""
    items = nav_items_for(request.user)
    if items:
        return redirect(items[0].url)
    return render(request, "home_no_role.html")


def login_locked(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The answer to a login while its username is locked on this address (429):
    what happened, for how long, and that nobody else is held back by it."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    context = {
        "username": username,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
    }
    return render(request, "registration/locked_out.html", context, status=429)
