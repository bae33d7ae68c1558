"""Keeping each incident's SLA clocks in step with its state.

``sla_sync`` runs inside every service that writes an incident, in the same
transaction: it closes and opens ledger spans (``SlaSpan``) as the state requires,
then recomputes the due columns the sweep reads. The ledger is the truth; the
columns are derived from it, so a priority change (new targets) or a pause never
loses time already used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.models import Incident, SlaSpan
from incidents.sla.clock import Reading, Span, explain, reach, read
from incidents.sla.policies import policy_for

RUNNING, PAUSED = "running", "paused"
# The incident columns sla_sync sets.
SLA_FIELDS = [
    "respond_due_at",
    "resolve_due_at",
    "respond_warn_at",
    "resolve_warn_at",
    "respond_breached_at",
    "resolve_breached_at",
    "next_update_due_at",
]
Clock = SlaSpan.Clock


def response_state(incident: Incident) -> str | None:
    """Response runs from logging until the first acknowledgement."""
    if incident.acknowledged_at is None and incident.status in Incident.OPEN_STATUSES:
        return RUNNING
    return None


def resolution_state(incident: Incident) -> str | None:
    """Resolution runs until resolved, paused while waiting for the requester; a
    reopen resumes it."""
    status = incident.status
    if status == Incident.Status.AWAITING_REQUESTER:
        return PAUSED
    if status in Incident.OPEN_STATUSES:
        return RUNNING
    return None


def _spans(rows: list[SlaSpan]) -> list[Span]:
    return [Span(row.start, row.end, row.paused) for row in rows]


def _align(
    incident: Incident,
    rows: list[SlaSpan],
    clock: str,
    desired: str | None,
    at: datetime,
) -> list[SlaSpan]:
    """Close the open span and open another when the clock's state changed."""
    current = rows[-1] if rows and rows[-1].end is None else None
    state = None if current is None else (PAUSED if current.paused else RUNNING)
    if state == desired:
        return rows
    if current is not None:
        stop = at
        if clock == Clock.RESPONSE and incident.acknowledged_at is not None:
            stop = incident.acknowledged_at
        current.end = max(stop, current.start)
        current.save(update_fields=["end"])
    if desired is not None:
        start = incident.logged_at if not rows else at
        rows = [
            *rows,
            SlaSpan.objects.create(
                incident=incident, clock=clock, start=start, paused=desired == PAUSED
            ),
        ]
    return rows


def sla_sync(incident: Incident, *, at: datetime) -> None:
    """Align the clocks with the incident's state and set its SLA columns (the
    caller saves the incident)."""
    rows = list(incident.sla_spans.all())
    response = _align(
        incident,
        [r for r in rows if r.clock == Clock.RESPONSE],
        Clock.RESPONSE,
        response_state(incident),
        at,
    )
    resolution = _align(
        incident,
        [r for r in rows if r.clock == Clock.RESOLUTION],
        Clock.RESOLUTION,
        resolution_state(incident),
        at,
    )
    found = policy_for(incident.priority)
    if found is None:
        incident.respond_due_at = incident.resolve_due_at = None
        incident.respond_warn_at = incident.resolve_warn_at = None
        incident.next_update_due_at = None
        return
    policy, calendar = found
    respond_target = policy.respond_minutes * 60
    resolve_target = policy.resolve_minutes * 60

    due = reach(calendar, _spans(response), respond_target)
    running = response_state(incident) == RUNNING
    incident.respond_due_at = due if running else None
    warn = reach(
        calendar, _spans(response), respond_target * policy.warn_at_percent / 100
    )
    incident.respond_warn_at = (
        warn if running and incident.respond_warned_at is None else None
    )
    if not running and due is not None and incident.respond_breached_at is None:
        incident.respond_breached_at = due  # stopped after the target: it was missed

    due = reach(calendar, _spans(resolution), resolve_target)
    running = resolution_state(incident) == RUNNING
    incident.resolve_due_at = due if running else None
    if resolution_state(incident) is None and due is not None:
        incident.resolve_breached_at = incident.resolve_breached_at or due
    warn = reach(
        calendar, _spans(resolution), resolve_target * policy.warn_at_percent / 100
    )
    incident.resolve_warn_at = (
        warn if running and incident.resolve_warned_at is None else None
    )

    cadence = policy.update_every_minutes
    if cadence and incident.status in Incident.OPEN_STATUSES:
        latest = at + timedelta(minutes=cadence)
        current = incident.next_update_due_at
        incident.next_update_due_at = (
            current if current and current <= latest else latest
        )
    else:
        incident.next_update_due_at = None


@dataclass(frozen=True)
class ClockView:
    """A clock as people see it: its reading and the sentence that explains it."""

    clock: str
    reading: Reading
    explanation: str
    breached_at: datetime | None


def sla_clocks(incident: Incident, *, now: datetime) -> list[ClockView]:
    """Both clocks of an incident, read at ``now``, with their explanations."""
    found = policy_for(incident.priority)
    if found is None:
        return []
    policy, calendar = found
    rows = list(incident.sla_spans.all())
    views = []
    for clock, target, breached in (
        (Clock.RESPONSE, policy.respond_minutes * 60, incident.respond_breached_at),
        (Clock.RESOLUTION, policy.resolve_minutes * 60, incident.resolve_breached_at),
    ):
        spans = _spans([r for r in rows if r.clock == clock])
        reading = read(calendar, target, spans, now)
        views.append(
            ClockView(clock, reading, explain(calendar, reading, what=clock), breached)
        )
    return views
