"""What a requester does through the portal: report a problem, reply with files.
Confirming and reopening are the lifecycle's own services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from incidents.models import Incident, IncidentNote, Service
from incidents.services._base import User, incident_service, now_or
from incidents.services.attachments import CheckedUpload, attachments_store
from incidents.services.communication import incident_add_note
from incidents.services.intake import incident_log


@incident_service
def incident_report(
    *,
    by: User,
    title: str,
    description: str,
    impact: str,
    urgency: str,
    service: Service | None = None,
    contact: str = "",
    files: Sequence[CheckedUpload] = (),
    now: datetime | None = None,
) -> Incident:
    """A requester reports a problem of their own: an incident from the portal,
    routed by the affected service's team, prioritised from the requester's
    answers, with the files they attached. Files must be checked first
    (``attachments_check``)."""
    at = now_or(now)
    incident = incident_log(
        by=by,
        title=title,
        source=Incident.Source.PORTAL,
        description=description,
        requester=by,
        services=[service] if service else [],
        impact=impact,
        urgency=urgency,
        contact=contact,
        now=at,
    )
    attachments_store(incident, files, by=by, at=at)
    return incident


@incident_service
def incident_reply(
    *,
    incident: Incident,
    by: User,
    body: str,
    files: Sequence[CheckedUpload] = (),
    now: datetime | None = None,
) -> IncidentNote:
    """A reply (the requester's, or an agent's to the requester) with files."""
    at = now_or(now)
    # The note's service locked the row; the lock holds until this transaction ends.
    note = incident_add_note(
        incident=incident, by=by, kind=IncidentNote.Kind.REPLY, body=body, now=at
    )
    attachments_store(incident, files, by=by, at=at, note=note)
    return note
