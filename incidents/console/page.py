"""The incident page, kept whole by what it shows.

Agents reload an incident far more often than it changes, and during a major
incident many people keep the same page open. The page is rendered once per
content and kept in the process's ``fragments`` cache (``itsm.fragments``); a
request whose incident shows the same content reuses it, with what belongs to this
request and this instant filled in (the holes, below).

What the page shows comes from two places, and the key covers both:

- the incident's row and the rows loaded with it (category, team, assignee,
  requester, status page entry): every column of each is in the key, so any
  write to them, through a service or a queryset ``update()``, is a new key;
- the rows around it: timeline entries, notes, stakeholder updates, attachments,
  alerts, services and duplicates. The main query carries their stamp
  (``with_stamp``): for each table, how many rows the incident has and the
  highest id (an attachment's time: its ids are random), and for alerts the
  repeats and the last repeat. Entries, notes and
  updates are append-only, so a change is always a new id; a change to the
  major-incident record (its people, bridge and stakeholders) records a timeline
  entry, so it moves the stamp too.

The names printed beside those rows (a username in the timeline, a person's full
name on the major incident card, a service's name) are read with them, and a
rename alone does not move the stamp. A kept page therefore lives at most
``PAGE_SECONDS``: that is how long a renamed person or service may still show by
the old name on a page nothing else changed on.

The holes are what may differ for the same content: the reader's CSRF token and
draft key (so readers who may do the same things share one copy), the SLA
countdowns (they depend on the instant), the forms that failed (what was typed),
and the incident's problem (another record's title and state). The version the
blank forms carry is one too, though the key holds it: so their kept fields are
shared by every incident whose forms start alike. Each is a marker
in the kept HTML (``itsm.pages``), so no text typed into an incident can contain
one. What the reader may do there (the actions offered, the cards they may see) is in
the key, as are their time zone and language (``itsm.fragments.kept``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import BooleanField, CharField, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from incidents.models import (
    Alert,
    Attachment,
    Incident,
    IncidentEvent,
    IncidentNote,
    MajorIncident,
    StakeholderUpdate,
)
from itsm import pages
from itsm.fragments import kept

TEMPLATE = "incidents/partials/incident_page.html"
# How long a kept page may be reused: the bound on showing a renamed person or
# service by the old name (see above). Reloads within it are what is saved.
PAGE_SECONDS = 60

# In this order: the failed forms carry the draft and CSRF markers themselves.
HOLES = (
    "respond",
    "resolve",
    "update_due",
    "failed",
    "problem",
    "sla",
    "draft",
    "csrf",
    "version",
)
marker = pages.marker


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type[Model], field: str) -> str:
    return _q(model._meta.get_field(field).column)


def _outer_id() -> str:
    """The main query's incident id, as the subqueries refer to it."""
    return f"{_q(Incident._meta.db_table)}.{_q('id')}"


def _rows_of(model: type[Model], link: str, *extra: str, newest: str = "id") -> str:
    """``count/max newest`` (and any ``extra`` aggregates) of the rows of ``model``
    whose ``link`` field points at the incident, as text."""
    top = f"MAX({_column(model, newest)})"
    parts = ["CAST(COUNT(*) AS TEXT)", f"COALESCE(CAST({top} AS TEXT), '')"]
    parts += [f"COALESCE(CAST({aggregate} AS TEXT), '')" for aggregate in extra]
    joined = " || '/' || ".join(parts)
    # Aliased: the duplicates are rows of the incident table itself.
    inner = _q("around")
    return (
        f"(SELECT {joined} FROM {_q(model._meta.db_table)} {inner} "
        f"WHERE {inner}.{_column(model, link)} = {_outer_id()})"
    )


@cache
def _stamp_sql() -> str:
    """The stamp's SQL (names from the models' metadata), built once."""
    services = Incident.services.through
    tables = [
        _rows_of(IncidentEvent, "incident"),
        _rows_of(IncidentNote, "incident"),
        _rows_of(StakeholderUpdate, "incident"),
        _rows_of(Attachment, "incident", newest="created_at"),  # ids are random
        _rows_of(
            Alert,
            "incident",
            f"SUM({_column(Alert, 'repeats')})",
            f"MAX({_column(Alert, 'last_repeat_at')})",
        ),
        _rows_of(services, "incident"),
        _rows_of(Incident, "merged_into"),
    ]
    return " || ' ' || ".join(tables)


@cache
def _major_sql() -> str:
    return (
        f"EXISTS (SELECT 1 FROM {_q(MajorIncident._meta.db_table)} "
        f"WHERE {_column(MajorIncident, 'incident')} = {_outer_id()})"
    )


def with_stamp(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """``incidents`` with ``page_stamp`` (the rows around each, see above) and
    ``major_recorded`` (whether it has a major-incident record), in the same query."""
    return incidents.annotate(
        page_stamp=RawSQL(_stamp_sql(), (), output_field=CharField()),
        major_recorded=RawSQL(_major_sql(), (), output_field=BooleanField()),
    )


# Columns of the rows loaded with the incident that the page never prints and that
# change by themselves: a person's sign-in moves ``last_login`` (and may rehash the
# password), which must not make every page they are assigned to anew.
_NOT_PRINTED = frozenset({"password", "last_login"})


def _values(row: Model | None) -> tuple[Any, ...] | None:
    if row is None:
        return None
    return tuple(
        getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.attname not in _NOT_PRINTED
    )


def page_key(incident: Incident, reader: Mapping[str, Any]) -> dict[str, Any]:
    """What the kept page depends on: the incident's columns and those of every
    row loaded with it, the stamp, and what the ``reader`` may do there."""
    loaded = incident._state.fields_cache
    return {
        "incident": _values(incident),
        "loaded": sorted((name, _values(row)) for name, row in loaded.items()),
        "stamp": incident.page_stamp,
        **reader,
    }


def kept_page(
    incident: Incident,
    reader: Mapping[str, Any],
    context: Callable[[], dict[str, Any]],
) -> str:
    """The page's HTML with its holes: kept, or rendered from ``context()`` (called
    only then) with a marker in each hole."""
    key = page_key(incident, reader)

    def render() -> str:
        holes = pages.markers(HOLES)
        values = {**context(), "holes": holes, "csrf_token": holes["csrf"]}
        return render_to_string(TEMPLATE, values)

    return kept(TEMPLATE, key, render, seconds=PAGE_SECONDS)


def filled(html: str, holes: Mapping[str, str]) -> SafeString:
    """``html`` with each hole's marker replaced by its content (already safe
    HTML, or the CSRF token, which is letters and digits)."""
    return pages.filled(html, {name: holes[name] for name in HOLES})
