"""HTML fragments rendered once for what they print.

The long lists of the busiest pages (the queue's rows, an incident's timeline,
notes and updates) are rendered by Django's template engine at a few microseconds
a value, which on a page of 50 rows is most of the page's time. Most requests
print exactly what the previous one printed: the queue polls itself, and agents
reload an incident far more often than it changes.

So such a list is rendered from plain value objects (frozen dataclasses, nothing
that reads the database) by a template that sees only them, and the HTML is kept
under a digest of everything it depends on: the template's name, the values'
``repr``, the reader's time zone and language. The key is the content, so a kept
copy can never be stale and nothing has to be told of a change; a changed value is
a new key, and old ones age out. That is also why the copies live in each
process's memory (the ``fragments`` cache, see settings) rather than Redis: no
round trip, nothing shared to go down, and no copy for another process to miss.

The fragment's template gets no request, so it cannot print anything of the
reader's (the CSRF token, permissions) that the key does not cover.

A blank form's fields are such a fragment too (``blank_form``): what they print is
the form's class, its ids, each field's starting value and each select's options,
and those are the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.autoreload import file_changed
from django.utils.safestring import SafeString, mark_safe

CACHE_ALIAS = "fragments"
# A kept fragment is dropped this long after it was rendered, or sooner when the
# cache is full: it is only ever a saving, never needed.
FRAGMENT_SECONDS = 600


def forget_fragments(**kwargs: Any) -> None:
    """Drop every kept fragment. Connected to the development server's
    ``file_changed``: an edited template is read afresh there without a restart,
    and what was kept of its old text must not outlive it. Returns None, so the
    server still restarts for a changed module."""
    caches[CACHE_ALIAS].clear()


file_changed.connect(forget_fragments, dispatch_uid="itsm.fragments.forget")


def fragment_key(template_name: str, values: dict[str, Any]) -> str:
    """The key of ``template_name`` rendered with ``values``: a digest of the
    template's name, the values (by ``repr``, in name order), and the active time
    zone and language, which change how dates and words print."""
    text = repr(
        (
            template_name,
            sorted(values.items()),
            timezone.get_current_timezone_name(),
            translation.get_language(),
        )
    )
    digest = hashlib.blake2b(text.encode(), digest_size=20).hexdigest()
    return f"fragment:{digest}"


def kept(
    name: str,
    values: dict[str, Any],
    render: Callable[[], str],
    seconds: int = FRAGMENT_SECONDS,
) -> SafeString:
    """The HTML ``render()`` makes, kept under ``name`` and ``values`` for at most
    ``seconds``: the caller promises that ``render()`` prints only what ``values``
    say (see ``rendered``)."""
    cache = caches[CACHE_ALIAS]
    key = fragment_key(name, values)
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, seconds)
    # Made by the template engine, which escaped every value.
    return mark_safe(html)  # noqa: S308


def rendered(template_name: str, **values: Any) -> SafeString:
    """``template_name`` rendered with ``values`` alone (no request), or the copy
    kept from an earlier request that had the same values.

    Every value must print the same whenever its ``repr`` is the same: plain data
    (str, int, datetime, tuples) or frozen dataclasses of it, never a model
    instance (its ``repr`` is its name, not its content)."""
    return kept(template_name, values, lambda: render_to_string(template_name, values))


def blank_form(template_name: str, form: forms.Form, **values: Any) -> SafeString:
    """``template_name`` rendered with the unbound ``form`` (and ``values``), kept
    under what a blank form prints: its class, prefix and ids, each field's
    starting value and the options of each field that has choices (a select of
    database rows included: they are read once, here, and the widget prints these).
    A bound form shows what was typed and its errors: it is never kept."""
    if form.is_bound:
        raise ValueError("only a blank form is kept; render a bound one directly")
    options = {}
    for name, field in form.fields.items():
        if hasattr(field, "choices"):
            listed = [(str(value), str(label)) for value, label in field.choices]
            field.widget.choices = listed
            options[name] = listed
    key = {
        "form": f"{type(form).__module__}.{type(form).__qualname__}",
        "prefix": form.prefix,
        "auto_id": form.auto_id,
        "label_suffix": form.label_suffix,
        "initial": [
            (name, field.prepare_value(form.get_initial_for_field(field, name)))
            for name, field in form.fields.items()
        ],
        "options": options,
        **values,
    }
    return kept(
        template_name,
        key,
        lambda: render_to_string(template_name, {"form": form, **values}),
    )
