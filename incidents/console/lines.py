"""The incident page's long lists (timeline, notes and replies, stakeholder
updates) as plain lines: every value a list prints, read once from the rows.

A line is a frozen dataclass of text and times, so its ``repr`` says all it prints:
the page renders each list through ``itsm.fragments.rendered``, which keeps the
HTML under that ``repr`` and renders it again only when a line changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from incidents.console.timeline import describe
from incidents.models import IncidentEvent, IncidentNote, StakeholderUpdate
from incidents.selectors import RepeatLine


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One timeline entry: an event, or an alert's counted repeats."""

    at: datetime
    kind: str  # the event's kind as it reads; "" for a repeat line
    actor: str  # the username, or "system"
    detail: str  # what changed, from what to what; "" when the kind says it all
    repeated: str = ""  # a repeat line: the alert's name
    repeats: int = 0


def timeline_lines(
    entries: Iterable[IncidentEvent | RepeatLine],
) -> tuple[TimelineLine, ...]:
    """Lines of ``Timeline.entries`` (events with their actors selected)."""
    lines = []
    for entry in entries:
        if isinstance(entry, RepeatLine):
            lines.append(
                TimelineLine(
                    at=entry.at,
                    kind="",
                    actor="",
                    detail="",
                    repeated=entry.name,
                    repeats=entry.repeats,
                )
            )
        else:
            lines.append(
                TimelineLine(
                    at=entry.at,
                    kind=entry.get_kind_display(),
                    actor=entry.actor.get_username() if entry.actor else "system",
                    detail=describe(entry),
                )
            )
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class NoteLine:
    """A work note or a reply, as the conversation shows it."""

    kind: str  # the stored kind, for the CSS class
    internal: bool
    author: str
    at: datetime
    body: str


def note_lines(notes: Sequence[IncidentNote]) -> tuple[NoteLine, ...]:
    """Lines of notes read with their authors."""
    return tuple(
        NoteLine(
            kind=note.kind,
            internal=note.is_internal,
            author=note.author.get_username(),
            at=note.created_at,
            body=note.body,
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


def update_lines(updates: Iterable[StakeholderUpdate]) -> tuple[UpdateLine, ...]:
    """Lines of updates read with their authors."""
    return tuple(
        UpdateLine(
            public=update.is_public,
            author=update.author.get_username(),
            at=update.created_at,
            body=update.body,
        )
        for update in updates
    )
