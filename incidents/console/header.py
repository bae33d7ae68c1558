"""What the incident page's header says, computed once: what a responder needs
at 3 a.m. without scrolling (both SLA countdowns and the next stakeholder update,
how long overdue when it is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString

from incidents.console.queue import Due, countdown, due
from incidents.models import Incident


@dataclass(frozen=True)
class UpdateDue:
    at: str  # ISO 8601
    text: str  # "in 12 min" or "overdue by 1 h 5 min"
    overdue: bool

    @property
    def html(self) -> SafeString:
        """The header's "Next update" item, red once overdue."""
        return format_html(
            '<div><dt>Next update</dt><dd class="update-due{}">'
            '<time datetime="{}">{}</time></dd></div>',
            " late" if self.overdue else "",
            self.at,
            self.text,
        )


@dataclass(frozen=True)
class Header:
    respond: Due
    resolve: Due
    update: UpdateDue | None


def header_for(incident: Incident, *, now: datetime) -> Header:
    acknowledged = incident.acknowledged_at is not None
    respond = (
        Due(text="met")
        if acknowledged and incident.respond_breached_at is None
        else due(
            None if acknowledged else incident.respond_due_at,
            incident.respond_breached_at is not None,
            now,
        )
    )
    resolve = due(
        None if incident.resolved_at else incident.resolve_due_at,
        incident.resolve_breached_at is not None,
        now,
    )
    update = None
    if (at := incident.next_update_due_at) is not None:
        seconds = (at - now).total_seconds()
        overdue = seconds <= 0
        text = (
            f"overdue by {countdown(-seconds)}"
            if overdue
            else f"in {countdown(seconds)}"
        )
        update = UpdateDue(at.isoformat(), text, overdue)
    return Header(respond, resolve, update)
