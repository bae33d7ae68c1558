"""The status page's kept renderings, answered before the rest of the stack.

``/status``, ``/status.json`` and the ``/api/v2/`` shapes are the same for every
visitor and kept, rendered and gzipped, in the cache. Like WhiteNoise for static
files, this middleware (placed right after WhiteNoise) answers them from there
without sessions, CSRF, authentication, messages or URL resolution: one cache
look-up. The host is still validated, and the response carries what the views'
would (``views.gzipped_response``) plus the clickjacking header the middleware it
skips would add. On a miss, or with the cache down, the request goes on to the
view, which renders and keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from incidents.status import statuspage
from incidents.status.selectors import cached_rendering_peek
from incidents.status.views import HTML, JSON, gzipped_response

# path -> (rendering, content type, readable from any origin)
Route = tuple[str, str, bool]


def routes() -> dict[str, Route]:
    found = {
        reverse("status:page"): ("html", HTML, False),
        reverse("status:json"): ("json", JSON, False),
    }
    for endpoint, name in statuspage.ENDPOINTS.items():
        found[reverse("status:api", args=[endpoint])] = (f"v2-{name}", JSON, True)
    return found


class CachedStatusPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._routes: dict[str, Route] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            return self.get_response(request)
        if self._routes is None:  # the URLconf is loaded by the first request
            self._routes = routes()
        route = self._routes.get(request.path_info)
        if route is None:
            return self.get_response(request)
        name, content_type, any_origin = route
        request.get_host()  # DisallowedHost (400) for a host we do not serve
        body = cached_rendering_peek(name)
        if body is None:
            return self.get_response(request)
        response = gzipped_response(request, body, content_type, any_origin=any_origin)
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response
