"""Moving an incident through its lifecycle: one service per transition."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from incidents.exceptions import IncidentConflict
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    IncidentNote,
    LifecyclePolicy,
    Problem,
    Service,
    Team,
)
from incidents.services._base import (
    User,
    incident_service,
    lock,
    now_or,
    record,
    require_transition,
    resign,
    set_fields,
    transition,
)
from incidents.services.communication import add_note
from incidents.services.requester_notices import requester_notify


@incident_service
def incident_triage(
    *,
    incident: Incident,
    by: User | None,
    category: Category | None,
    impact: str,
    urgency: str,
    team: Team | None = None,
    services: list[Service] | None = None,
    known_error: bool = False,
    problem: Problem | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Verify and classify a new incident: category, impact and urgency (hence the
    priority), the team (the category's unless given), and whether it is a known
    error. All four of category, impact, urgency and team are required."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "triage", by=by)
    at = now_or(now)
    if team is None and category is not None:
        team = category.team
    set_fields(
        incident,
        by=by,
        at=at,
        category=category,
        impact=impact,
        urgency=urgency,
        team=team,
        tier=team.tier if team else incident.tier,
        known_error=known_error or bool(problem and problem.is_known_error),
        problem=problem,
    )
    if blockers := incident.triage_blockers():
        raise ValidationError(blockers)
    resign(
        incident,
        service_ids=None if services is None else [service.pk for service in services],
    )
    transition(incident, "triage", by=by, at=at)
    if services is not None:
        incident.services.set(services)
    return incident


@incident_service
def incident_start_work(
    *,
    incident: Incident,
    by: User | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Start working a triaged incident. An unassigned one is taken by the caller,
    who must be in its team. Starting is the first acknowledgement if none came
    before."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "start_work", by=by)
    at = now_or(now)
    if incident.assignee_id is None and by is not None:
        if not incident.team.members.filter(pk=by.pk).exists():
            raise ValidationError(
                {
                    "assignee": f"You are not in {incident.team.name}; ask its lead to "
                    "assign you, or escalate."
                }
            )
        set_fields(incident, by=by, at=at, assignee=by)
        record(incident, IncidentEvent.Kind.ASSIGNED, by=by, at=at, assignee=by.pk)
    if incident.assignee_id is None:
        raise ValidationError({"assignee": "Assign someone before starting work."})
    transition(incident, "start_work", by=by, at=at)
    return incident


@incident_service
def incident_wait_for_requester(
    *,
    incident: Incident,
    by: User | None,
    question: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Ask the requester something and wait for the answer. The question goes to
    them as a reply; their answer resumes the work."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "wait_for_requester", by=by)
    at = now_or(now)
    if incident.requester_id is None:
        raise ValidationError(
            {"requester": "This incident has no requester to wait for."}
        )
    if not question.strip():
        raise ValidationError({"question": "Say what you need from the requester."})
    transition(incident, "wait_for_requester", by=by, at=at)
    note = add_note(incident, by=by, at=at, kind=IncidentNote.Kind.REPLY, body=question)
    requester_notify(incident, "requester_question", at=at, note=note)
    return incident


@incident_service
def incident_resume(
    *,
    incident: Incident,
    by: User | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Go back to investigating an incident that waits for its requester."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    transition(incident, "resume", by=by, at=now_or(now))
    return incident


@incident_service
def incident_resolve(
    *,
    incident: Incident,
    by: User | None,
    resolution_kind: str,
    resolution: str,
    verification: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Resolve: record the workaround or permanent fix applied and how it was
    verified. The requester then has the grace period of the lifecycle policy to
    confirm or reopen before it closes by itself."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "resolve", by=by)
    at = now_or(now)
    set_fields(
        incident,
        by=by,
        at=at,
        resolution_kind=resolution_kind,
        resolution=resolution.strip(),
        verification=verification.strip(),
    )
    if blockers := incident.resolution_blockers():
        raise ValidationError(blockers)
    grace = LifecyclePolicy.current().confirmation_grace
    transition(incident, "resolve", by=by, at=at, grace=grace)
    return incident


@incident_service
def incident_confirm(
    *,
    incident: Incident,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """The requester (or, for an incident without one, a business lead) confirms the
    fix, which closes the incident for good."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    transition(incident, "confirm", by=by, at=now_or(now))
    return incident


@incident_service
def incident_reopen(
    *,
    incident: Incident,
    by: User | None,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Still broken: back to investigating. The reason is on the timeline, and in
    the conversation too (a reply from the requester, a work note from an agent).
    The time already used counts on. A requester may reopen only within the grace
    period; agents may reopen until it closes."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "reopen", by=by)
    at = now_or(now)
    due = incident.confirmation_due_at
    is_agent = by is None or by.has_perm("incidents.work_incident")
    if not is_agent and due is not None and at >= due:
        # Past the grace period the incident is as good as closed; the sweep
        # closes it, and a problem that came back is a new (linked) incident.
        raise IncidentConflict(
            f"Cannot reopen {incident.number}: the time to reopen it ended on "
            f"{due:%Y-%m-%d %H:%M %Z}. Report the problem again, please.",
            code="final",
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say what is still wrong."})
    transition(incident, "reopen", by=by, at=at, details={"reason": reason.strip()})
    if by is not None:
        is_requester = by.pk == incident.requester_id
        kind = IncidentNote.Kind.REPLY if is_requester else IncidentNote.Kind.WORK_NOTE
        add_note(incident, by=by, at=at, kind=kind, body=reason)
    return incident


@incident_service
def incident_close_unconfirmed(
    *, incident: Incident, now: datetime | None = None
) -> Incident:
    """Close a resolved incident nobody confirmed or reopened within the grace
    period. Only the system does this; before the period ends, nobody can."""
    lock(incident, by=None)
    at = now_or(now)
    due = incident.confirmation_due_at
    if incident.status == Incident.Status.RESOLVED and due is not None and at < due:
        raise IncidentConflict(
            f"Cannot close {incident.number} before {due:%Y-%m-%d %H:%M %Z}: the "
            "requester may still confirm or reopen it.",
            code="invalid_transition",
        )
    transition(incident, "close", by=None, at=at)
    return incident


@incident_service
def incident_cancel(
    *,
    incident: Incident,
    by: User | None,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Cancel an incident logged by mistake (not an incident at all), before work
    starts. The reason is kept."""
    lock(incident, by=by, expected_version=expected_version, for_transition=True)
    require_transition(incident, "cancel", by=by)
    at = now_or(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the incident is cancelled."})
    set_fields(incident, by=by, at=at, cancel_reason=reason.strip())
    transition(incident, "cancel", by=by, at=at)
    return incident


@incident_service
def incident_merge(
    *,
    incident: Incident,
    into: Incident,
    by: User | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Merge a duplicate into the incident that carries on. The duplicate ends as
    merged; the survivor's timeline says what was merged in."""
    # Lock both rows in id order, so two opposite merges cannot deadlock; the
    # merge was chosen from the duplicate's state, not the survivor's.
    for row in sorted((incident, into), key=lambda i: i.pk):
        if row is incident:
            lock(row, by=by, expected_version=expected_version, for_transition=True)
        else:
            lock(row, by=by)
    require_transition(incident, "merge", by=by)
    at = now_or(now)
    if into.pk == incident.pk:
        raise ValidationError({"into": "An incident cannot be merged into itself."})
    if into.status not in Incident.OPEN_STATUSES:
        raise ValidationError(
            {
                "into": f"{into.number} is {into.get_status_display().lower()}; merge "
                "into an open incident."
            }
        )
    set_fields(incident, by=by, at=at, merged_into=into)
    transition(incident, "merge", by=by, at=at)
    record(
        into,
        IncidentEvent.Kind.DUPLICATE_MERGED,
        by=by,
        at=at,
        duplicate=incident.pk,
        number=incident.number,
    )
    return incident
