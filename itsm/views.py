from __future__ import annotations

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
