"""Who may open each area of the browser side, what happens to a form sent with an
expired session, and how a service's refusal shows on a form. Shared by the agent
console and the requester portal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

View = Callable[..., HttpResponse]


def area_required(permission: str, *, home: str) -> Callable[[View], View]:
    """Logged in (else to the login page, and back after it), then ``permission``
    (else 403). ``home`` names the area's first page, where a form sent from
    outside the area goes back to after login."""

    def decorate(view: View) -> View:
        allowed = permission_required(permission, raise_exception=True)(view)

        @functools.wraps(view)
        def checked(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(back_after_login(request, home=home))
            return allowed(request, *args, **kwargs)

        return checked

    return decorate


def back_after_login(request: HttpRequest, *, home: str) -> str:
    """Where the login page sends the person back to. A form sent with an expired
    session cannot be sent again by a redirect, so back to the page of the area it
    was sent from, where the browser still has the text (static/js/drafts.js)."""
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("referer", "")
    ours = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    parts = urlsplit(referer)
    back = urlunsplit(("", "", parts.path, parts.query, ""))
    start = reverse(home)
    return back if ours and back.startswith(start) else start


def draft_key(request: HttpRequest, scope: str, form: str) -> str:
    """Where the browser keeps what was typed into a form until it is saved
    (static/js/drafts.js): one key per user, incident number (or "new") and form.
    A success message carries the key of the form it saved, and the page that
    shows it tells the browser to drop that draft."""
    return f"itsm:draft:{request.user.pk}:{scope}:{form}"


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: each field error on its field when the
    form has one, the rest (and a refusal without fields) above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def sandboxed_file(attachment: models.Model, *, inline: bool = False) -> FileResponse:
    """An uploaded file (a row with ``file``, ``name`` and ``content_type``) for a
    caller already allowed to see it: a download unless ``inline`` (pictures an
    article shows), in a sandbox either way, so an uploaded file never runs as
    our page; 404 if the stored file is gone."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
