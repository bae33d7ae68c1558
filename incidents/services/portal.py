"""What a requester does through the portal: report a problem, reply with files.
Confirming and reopening are the lifecycle's own services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
    return _logged_with_files(
        by=by,
        files=files,
        at=now_or(now),
        title=title,
        source=Incident.Source.PORTAL,
        description=description,
        requester=by,
        services=[service] if service else [],
        impact=impact,
        urgency=urgency,
        contact=contact,
    )


def _logged_with_files(
    *, by: User, files: Sequence[CheckedUpload], at: datetime, **fields: Any
) -> Incident:
    incident = incident_log(by=by, now=at, **fields)
    attachments_store(incident, files, by=by, at=at)
    return incident


@incident_service
def incident_log_call(
    *,
    by: User,
    title: str,
    description: str = "",
    requester: User | None = None,
    contact: str = "",
    files: Sequence[CheckedUpload] = (),
    now: datetime | None = None,
    **fields: Any,
) -> Incident:
    """An agent logs a phone call (or a walk-up) for someone: a new incident with
    that requester, how to reach them and the files they sent, in one transaction
    (a refused file logs nothing). ``fields`` are ``incident_log``'s own."""
    return _logged_with_files(
        by=by,
        files=files,
        at=now_or(now),
        title=title,
        source=Incident.Source.AGENT,
        description=description,
        requester=requester,
        contact=contact,
        **fields,
    )


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
    return incident_note_with_files(
        incident=incident,
        by=by,
        kind=IncidentNote.Kind.REPLY,
        body=body,
        files=files,
        now=now,
    )


@incident_service
def incident_note_with_files(
    *,
    incident: Incident,
    by: User,
    kind: str,
    body: str,
    files: Sequence[CheckedUpload] = (),
    now: datetime | None = None,
) -> IncidentNote:
    """A note (a work note, or a reply the requester sees) with files on it."""
    at = now_or(now)
    # The note's service locked the row; the lock holds until this transaction ends.
    note = incident_add_note(incident=incident, by=by, kind=kind, body=body, now=at)
    attachments_store(incident, files, by=by, at=at, note=note)
    return note
