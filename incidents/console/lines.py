"""The incident page's long lists (timeline, notes and replies, stakeholder
updates) as plain lines: every value a list prints, read once from the rows
(values, not model instances: a page of them builds no objects).

A line is a frozen dataclass of text and times, so its ``repr`` says all it prints:
the page renders each list through ``itsm.fragments.rendered``, which keeps the
HTML under that ``repr`` and renders it again only when a line changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidents.console.timeline import describe
from incidents.models import IncidentEvent, IncidentNote
from incidents.selectors import Timeline

_KINDS = dict(IncidentEvent.Kind.choices)


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One timeline entry: an event, or an alert's counted repeats."""

    at: datetime
    kind: str  # the event's kind as it reads; "" for a repeat line
    actor: str  # the username, or "system"
    detail: str  # what changed, from what to what; "" when the kind says it all
    repeated: str = ""  # a repeat line: the alert's name
    repeats: int = 0


def timeline_lines(timeline: Timeline) -> tuple[TimelineLine, ...]:
    """Lines of the page's timeline rows and repeat lines, newest first."""
    lines = [
        TimelineLine(
            at=row["at"],
            kind=_KINDS.get(row["kind"], row["kind"]),
            actor=row["actor_name"] or "system",
            detail=describe(row["kind"], row["data"]),
        )
        for row in timeline.rows
    ]
    lines += [
        TimelineLine(
            at=repeat.at,
            kind="",
            actor="",
            detail="",
            repeated=repeat.name,
            repeats=repeat.repeats,
        )
        for repeat in timeline.repeats
    ]
    return tuple(sorted(lines, key=lambda line: line.at, reverse=True))


@dataclass(frozen=True, slots=True)
class NoteLine:
    """A work note or a reply, as the conversation shows it."""

    kind: str  # the stored kind, for the CSS class
    internal: bool
    author: str
    at: datetime
    body: str


def note_lines(notes: Sequence[dict[str, Any]]) -> tuple[NoteLine, ...]:
    """Lines of notes as ``selectors.incident_notes`` reads them."""
    return tuple(
        NoteLine(
            kind=note["kind"],
            internal=note["kind"] == IncidentNote.Kind.WORK_NOTE,
            author=note["author_name"],
            at=note["created_at"],
            body=note["body"],
        )
        for note in notes
    )


@dataclass(frozen=True, slots=True)
class UpdateLine:
    """A stakeholder update."""

    public: bool
    author: str
    at: datetime
    body: str


def update_lines(updates: Sequence[dict[str, Any]]) -> tuple[UpdateLine, ...]:
    """Lines of updates as ``selectors.incident_updates`` reads them."""
    return tuple(
        UpdateLine(
            public=update["is_public"],
            author=update["author_name"],
            at=update["created_at"],
            body=update["body"],
        )
        for update in updates
    )
