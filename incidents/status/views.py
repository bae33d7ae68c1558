"""The public status page and its JSON. No login and no forms: both are the same
for every visitor, set no cookie and may be cached by browsers and proxies.

The page does not extend ``base.html``: that layout shows who is logged in and
carries a CSRF token, neither of which may end up in a response a shared cache
keeps. It is rendered without the request, so no context processor (and no
session or user query) runs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from incidents.status.selectors import status_page


def public(response: HttpResponse) -> HttpResponse:
    """Let browsers and proxies keep the response as long as we keep its content."""
    patch_cache_control(response, public=True, max_age=settings.STATUS_CACHE_SECONDS)
    return response


@require_safe
def status_html(request: HttpRequest) -> HttpResponse:
    """The status page: services and their state, current major incidents with
    their public updates, and the last days' history."""
    html = render_to_string("status/status_page.html", {"status": status_page()})
    return public(HttpResponse(html))


@require_safe
def status_json(request: HttpRequest) -> HttpResponse:
    """The same content as JSON; times in ISO 8601, dates as YYYY-MM-DD."""
    return public(JsonResponse(status_page(), encoder=DjangoJSONEncoder))
