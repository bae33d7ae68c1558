"""The address a request came from, behind the proxies the settings trust.

Behind a reverse proxy every request's ``REMOTE_ADDR`` is the proxy's own, so a
per-address rule (the login lock) would treat all users as one. Each trusted
proxy appends the address it was reached from to ``X-Forwarded-For``; the last
``TRUSTED_PROXY_COUNT`` entries were written by them, and the first of those is
where the outermost one was reached from. Entries before it come from the client
and can say anything, so they are never read.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR`` with no trusted proxy, else the
    address the outermost trusted proxy saw. A request with fewer forwarded
    entries than trusted proxies did not come through all of them: its own
    ``REMOTE_ADDR`` is all that is known of it."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    return hops[-count]
