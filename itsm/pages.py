"""Whole pages kept by what they print, the reader's own parts filled in.

The queue is the page agents keep open all day, and most loads of it print what
the last one printed. Such a page, ``base.html`` included, is rendered without a
request and kept in the process's ``fragments`` cache (``itsm.fragments.kept``)
under the caller's key and what ``base.html`` prints of the reader (their name,
whether they may open the console). What differs from one request to the next is
a hole: a marker in the kept HTML, replaced by its content on every request.
Every page has two, the CSRF token (the reader's own) and the navigation bar (it
marks the page being shown, and is kept itself); the caller names the rest, such
as large fragments kept on their own and values that change at every load.

The caller's key must cover everything the page prints that is not a hole: the
template sees no request, no ``user`` and no ``perms`` but the stand-ins below,
which print exactly what the key holds. A request with messages waiting is
rendered the ordinary way, since they are printed once, to whom they are for.

A marker is a random word chosen when the process starts and never sent (every
marker is replaced), so no text typed into the product can contain one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from itsm.fragments import kept
from itsm.navigation import NavigationBar

# Letters, digits, dashes and colons, which escaping leaves as they are (so the
# CSRF token's marker survives ``format_html`` in ``{% csrf_token %}``).
_WORD = f"hole-{secrets.token_hex(12)}"
CONSOLE = "incidents.use_agent_console"


def marker(name: str) -> str:
    """The marker of the hole ``name``, as the kept HTML holds it."""
    return f"{_WORD}:{name}"


def markers(names: Iterable[str]) -> dict[str, SafeString]:
    return {name: mark_safe(marker(name)) for name in names}  # noqa: S308


def filled(html: str, holes: Mapping[str, str]) -> SafeString:
    """``html`` with each hole's marker replaced by its content (safe HTML, or
    a value escaping leaves as it is), in the holes' order: a hole's content may
    hold the marker of a later one."""
    for name, content in holes.items():
        html = html.replace(marker(name), content)
    # Made by the template engine and the holes' own rendering, all escaped.
    return mark_safe(html)  # noqa: S308


@dataclass(frozen=True)
class Reader:
    """What ``base.html`` prints of the person signed in (``{{ user.get_full_name
    |default:user.get_username }}``): the stand-in for ``user`` on a kept page,
    so people of the same name and rights share one copy."""

    is_authenticated: bool
    name: str

    @property
    def get_full_name(self) -> str:
        return self.name

    @property
    def get_username(self) -> str:
        return self.name


def _reader(request: HttpRequest) -> tuple[Reader, dict[str, dict[str, bool]]]:
    user = request.user
    name = (
        (user.get_full_name() or user.get_username()) if user.is_authenticated else ""
    )
    reader = Reader(is_authenticated=user.is_authenticated, name=name)
    app, codename = CONSOLE.split(".")
    return reader, {app: {codename: user.has_perm(CONSOLE)}}


def messages_waiting(request: HttpRequest) -> bool:
    """Whether the request has messages to print (read, not yet marked used)."""
    return len(messages.get_messages(request)) > 0


def render_kept(
    request: HttpRequest,
    template_name: str,
    key: Mapping[str, Any],
    context: Mapping[str, Any],
    holes: Mapping[str, str],
    status: int = 200,
) -> HttpResponse:
    """``template_name`` with ``context``, kept under ``key`` (everything it
    prints but the holes) and the reader; each of ``holes`` is a context value
    filled in at every request."""
    if messages_waiting(request):
        return render(request, template_name, {**context, **holes}, status=status)
    reader, perms = _reader(request)
    every = {
        **holes,
        "navigation_bar": NavigationBar(request).html,
        "csrf_token": get_token(request),
    }

    def rendering() -> str:
        values = {
            **context,
            **markers(every),
            "user": reader,
            "perms": perms,
            "messages": (),
        }
        return render_to_string(template_name, values)

    whole = {**key, "reader": reader, "perms": perms}
    html = filled(kept(template_name, whole, rendering), every)
    return HttpResponse(html, status=status)
