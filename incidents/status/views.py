"""The public side of the status page: the page, an entry's page, the JSON (ours
and Statuspage's shapes), and subscribing. No login.

The page, the entry pages and the JSON are the same for every visitor, set no
cookie and may be cached by browsers and proxies. They do not extend
``base.html`` (that layout shows who is logged in and carries a CSRF token) and
are rendered without the request, so no context processor, session or user query
runs; a cached read is one cache look-up. Subscribing is per visitor: its form
page carries a CSRF token and is never cached; the confirmation and unsubscribe
links carry their own signed token, which is what authorises them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import (
    add_never_cache_headers,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.text import compress_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from incidents.models import StatusPageSettings
from incidents.status import statuspage
from incidents.status.forms import SubscribeForm
from incidents.status.selectors import (
    cached_rendering,
    status_entry_page,
    status_page,
)
from incidents.status.services import (
    SubscriptionThrottled,
    subscription_cancel,
    subscription_confirm,
    subscription_request,
)

HTML = "text/html; charset=utf-8"
JSON = "application/json"


def public(response: HttpResponse) -> HttpResponse:
    """Let browsers and proxies keep the response as long as we keep its content."""
    patch_cache_control(response, public=True, max_age=settings.STATUS_CACHE_SECONDS)
    return response


def _gzipped(render: Callable[[], bytes]) -> Callable[[], bytes]:
    """A rendering as it is kept: gzipped once, when it is rendered (a tenth of
    the bytes to fetch from the cache and send; nearly every client takes it)."""
    return lambda: compress_string(render())


def gzipped_response(
    request: HttpRequest, body: bytes, content_type: str, *, any_origin: bool = False
) -> HttpResponse:
    """A kept rendering as the public gets it: as kept (gzipped) for a client that
    accepts gzip, unpacked for one that does not; cacheable by anyone; readable
    from any origin if ``any_origin``."""
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(body, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(body), content_type=content_type)
    patch_vary_headers(response, ["Accept-Encoding"])
    if any_origin:
        response["Access-Control-Allow-Origin"] = "*"
    return public(response)


def _cached_response(
    request: HttpRequest,
    name: str,
    render: Callable[[], bytes],
    content_type: str,
    *,
    any_origin: bool = False,
) -> HttpResponse:
    """The cached rendering ``name``, rendered now if the cache does not hold it."""
    body = cached_rendering(name, _gzipped(render))
    return gzipped_response(request, body, content_type, any_origin=any_origin)


def _json(value: object) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder).encode()


def _render_page(content: dict) -> bytes:
    context = {"status": content, "page_name": content["page"]["name"], "nav": "status"}
    return render_to_string("status/status_page.html", context).encode()


@require_safe
def status_html(request: HttpRequest) -> HttpResponse:
    """The status page: the page's state, current entries with their messages,
    maintenance, components with their state and 90 days of uptime, and the past
    entries by day."""
    return _cached_response(request, "html", lambda: _render_page(status_page()), HTML)


def status_json_body(content: dict) -> dict:
    """The content as ``/status.json`` gives it: a group names its components by
    id. A component's ``days`` are the days of its bar that were not all
    operational (``index`` 0 is the oldest of the ``uptime_days``)."""
    components = content["components"]
    groups = [
        {**g, "components": [c["id"] for c in g["components"]]}
        for g in content["groups"]
    ]
    keep = (
        "generated_at",
        "page",
        "state",
        "state_label",
        "indicator",
        "uptime_days",
        "history_days",
        "current",
        "history",
        "maintenance_active",
        "maintenance_upcoming",
        "maintenance_recent",
    )
    return {
        **{key: content[key] for key in keep},
        "components": components,
        "groups": groups,
    }


@require_safe
def status_json(request: HttpRequest) -> HttpResponse:
    """The page's content as JSON; times in ISO 8601, dates as YYYY-MM-DD."""
    return _cached_response(
        request,
        "json",
        lambda: _json(status_json_body(status_page())),
        JSON,
    )


@require_safe
def statuspage_api(request: HttpRequest, endpoint: str) -> HttpResponse:
    """``/api/v2/<endpoint>``: the content in the shape Statuspage's public API
    gives it (``incidents.status.statuspage``). Readable from any origin, as
    Statuspage's is, for widgets on other sites."""
    name = statuspage.ENDPOINTS.get(endpoint)
    if name is None:
        raise Http404
    return _cached_response(
        request,
        f"v2-{name}",
        lambda: _json(statuspage.shape(name, status_page())),
        JSON,
        any_origin=True,
    )


@require_safe
def entry_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """One published entry with all its messages (the link in emails and in the
    Statuspage shapes' ``shortlink``)."""
    entry = status_entry_page(public_id=public_id)
    if entry is None:
        raise Http404
    html = render_to_string(
        "status/entry_page.html", {"entry": entry, "page_name": entry["page_name"]}
    )
    return public(HttpResponse(html))


# ---------------------------------------------------------------- subscribing
def _private(response: HttpResponse) -> HttpResponse:
    """A page reached through a personal link: never kept, and the link is not
    passed on to where it leads."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """Subscribe by email or webhook. The answer is the same whether the address
    is known or not; 429 over the hourly limits, with the form kept."""
    form = SubscribeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                subscription_request(
                    email=data["email"],
                    components=data["components"],
                    webhook_url=data["webhook_url"],
                    client=request.META.get("REMOTE_ADDR", ""),
                )
            except SubscriptionThrottled:
                form.add_error(
                    None,
                    "Too many subscription requests from here or for this address: "
                    "try again in an hour.",
                )
                status = 429
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return render(
                    request,
                    "status/subscribe_sent.html",
                    {"email": data["email"], "page_name": _page_name()},
                )
    return render(
        request,
        "status/subscribe.html",
        {"form": form, "page_name": _page_name(), "nav": "subscribe"},
        status=status,
    )


def _page_name() -> str:
    return StatusPageSettings.current().name


def _link_page(template: str, context: dict, *, status: int = 200) -> HttpResponse:
    html = render_to_string(template, {"page_name": _page_name(), **context})
    return _private(HttpResponse(html, status=status))


@csrf_exempt  # the signed token in the URL is the authorisation; see the module
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link: a button (so that a mail scanner following links
    confirms nothing), whose POST subscribes."""
    if request.method != "POST":
        return _link_page("status/confirm.html", {"token": token})
    try:
        subscriber, secret = subscription_confirm(token=token)
    except ValidationError as exc:
        return _link_page(
            "status/link_invalid.html", {"reason": exc.messages[0]}, status=400
        )
    chosen = [service.name for service in subscriber.components.order_by("name")]
    return _link_page(
        "status/confirmed.html",
        {"subscriber": subscriber, "secret": secret, "chosen": chosen},
    )


@csrf_exempt  # the signed token in the URL is the authorisation; see the module
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link of every message: one button; and the POST that
    mail clients send for ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (RFC 8058), which unsubscribes at once."""
    if request.method != "POST":
        return _link_page("status/unsubscribe.html", {"token": token})
    try:
        subscription_cancel(token=token)
    except ValidationError as exc:
        return _link_page(
            "status/link_invalid.html", {"reason": exc.messages[0]}, status=400
        )
    return _link_page("status/unsubscribed.html", {})
