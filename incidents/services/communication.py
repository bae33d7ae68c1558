"""Talking about an incident: work notes, replies to the requester, and the
stakeholder communication log."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError

from incidents.models import Incident, IncidentEvent, IncidentNote, StakeholderUpdate
from incidents.services._base import (
    User,
    incident_service,
    lock,
    now_or,
    record,
    refuse_if_final,
    require_perm,
    save,
    status_page_changed,
    transition,
)
from incidents.services.major import stakeholders_notify
from incidents.services.requester_notices import requester_notify


def add_note(
    incident: Incident, *, by: User | None, at: datetime, kind: str, body: str
) -> IncidentNote:
    """Write a note and its timeline entry (callers hold the lock)."""
    note = IncidentNote.objects.create(
        incident=incident, kind=kind, author=by, body=body.strip(), created_at=at
    )
    record(incident, IncidentEvent.Kind(kind), by=by, at=at, note=note.pk)
    return note


@incident_service
def incident_add_note(
    *,
    incident: Incident,
    by: User,
    kind: str,
    body: str,
    now: datetime | None = None,
) -> IncidentNote:
    """Add a work note (agents only, never shown to the requester) or a reply (the
    requester sees it). An agent's first reply is the incident's acknowledgement;
    the requester's reply resumes an incident that waits for them."""
    lock(incident, by=by)
    refuse_if_final(incident, "add notes to")
    at = now_or(now)
    is_agent = by.has_perm("incidents.work_incident")
    is_requester = by.pk == incident.requester_id
    if kind == IncidentNote.Kind.WORK_NOTE and not is_agent:
        raise PermissionDenied("Only agents write work notes.")
    if kind == IncidentNote.Kind.REPLY and not (is_agent or is_requester):
        raise PermissionDenied("You may not reply on this incident.")
    if kind not in IncidentNote.Kind.values:
        raise ValidationError({"kind": f"{kind!r} is not a kind of note."})
    if not body.strip():
        raise ValidationError({"body": "The note is empty."})
    note = add_note(incident, by=by, at=at, kind=kind, body=body)
    if kind == IncidentNote.Kind.REPLY and not is_requester:
        requester_notify(incident, "requester_reply", at=at, note=note)
    if kind == IncidentNote.Kind.REPLY:
        if is_agent and incident.acknowledged_at is None:
            incident.acknowledged_at = at
            save(incident, at=at)
        elif is_requester and incident.status == Incident.Status.AWAITING_REQUESTER:
            transition(incident, "resume", by=by, at=at)
    return note


@incident_service
def incident_post_update(
    *,
    incident: Incident,
    by: User,
    body: str,
    is_public: bool = False,
    now: datetime | None = None,
) -> StakeholderUpdate:
    """Post to the stakeholder communication log; public updates go on the status
    page. Allowed until the incident is closed."""
    require_perm(by, "incidents.work_incident", "post updates on this incident")
    lock(incident, by=by)
    refuse_if_final(incident, "post updates on")
    at = now_or(now)
    if not body.strip():
        raise ValidationError({"body": "The update is empty."})
    update = StakeholderUpdate.objects.create(
        incident=incident,
        author=by,
        body=body.strip(),
        is_public=is_public,
        created_at=at,
    )
    if is_public:
        status_page_changed(incident)
    stakeholders_notify(incident, update, at=at)
    # The due time this update answers, kept on the timeline: whether updates go
    # out on time is read from there (the dashboards' communication figures).
    due = incident.next_update_due_at
    if due is not None:
        # The cadence starts again from this update (sla_sync sets the next one).
        incident.next_update_due_at = incident.update_reminded_at = None
        save(incident, at=at)
    record(
        incident,
        IncidentEvent.Kind.STAKEHOLDER_UPDATE,
        by=by,
        at=at,
        update=update.pk,
        public=is_public,
        due=due.isoformat() if due else None,
    )
    return update
