"""Reads of the requester portal. Each starts from ``incidents_visible_to`` and
narrows to the requester's own incidents: the portal shows a person their own
tickets, whatever else their role lets them see elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from incidents.models import (
    Attachment,
    Incident,
    IncidentNote,
    Service,
    StakeholderUpdate,
)
from incidents.selectors import incidents_visible_to

# The state as a requester reads it.
PLAIN_STATES = {
    Incident.Status.NEW: "Received",
    Incident.Status.TRIAGED: "Received, being routed",
    Incident.Status.INVESTIGATING: "Being worked on",
    Incident.Status.AWAITING_REQUESTER: "Waiting for your answer",
    Incident.Status.RESOLVED: "Fixed: please confirm",
    Incident.Status.CLOSED: "Closed",
    Incident.Status.CANCELLED: "Cancelled",
    Incident.Status.MERGED: "Merged with another report of the same problem",
}

SIMILAR_LIMIT = 5
_WORD = re.compile(r"\w{3,}")
# Words too common in titles to say two reports are about the same thing.
_COMMON = {"the", "and", "not", "does", "doesn", "can", "cannot", "with", "for", "from"}


def plain_state(incident: Incident) -> str:
    return PLAIN_STATES.get(incident.status, incident.get_status_display())


def ticket_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Incident]:
    """The person's own incidents, newest first."""
    if not user.is_authenticated:
        return Incident.objects.none()
    return incidents_visible_to(user).filter(requester=user).order_by("-id")


def ticket_get(*, user: AbstractBaseUser | AnonymousUser, number: str) -> Incident:
    """One of the person's own incidents by number, with its services;
    ``Incident.DoesNotExist`` for any other (someone else's ticket does not exist,
    as far as they can tell)."""
    return ticket_list(user=user).prefetch_related("services").by_number(number)


@dataclass(frozen=True)
class Conversation:
    """What the requester sees of the talk about a ticket: replies (never work
    notes) with their files, the files of the report itself, and the public
    stakeholder updates."""

    replies: list[IncidentNote]
    report_files: list[Attachment]
    updates: list[StakeholderUpdate]


def ticket_conversation(incident: Incident) -> Conversation:
    """In three queries whatever the length of the conversation."""
    replies = list(
        incident.notes.filter(kind=IncidentNote.Kind.REPLY)
        .select_related("author")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at"))
        )
    )
    report_files = list(incident.attachments.filter(note__isnull=True))
    updates = list(incident.updates.filter(is_public=True).order_by("-created_at"))
    return Conversation(replies, report_files, updates)


def attachment_get(*, user: AbstractBaseUser | AnonymousUser, pk: str) -> Attachment:
    """An attachment of an incident ``user`` may see; for anyone who does not see
    every incident, never one that came with a work note."""
    attachments = Attachment.objects.filter(incident__in=incidents_visible_to(user))
    if not user.has_perm("incidents.view_incident"):
        attachments = attachments.exclude(note__kind=IncidentNote.Kind.WORK_NOTE)
    return attachments.get(pk=pk)


def similar_open_incidents(*, title: str, service: Service | None) -> list[Incident]:
    """Open incidents on a public service whose titles share a word with
    ``title``: "someone already reported this". Only public services, and only
    the title and state are shown, since the requester may not see the incident
    itself: a public service's trouble is on the status page anyway."""
    words = {w.lower() for w in _WORD.findall(title)} - _COMMON
    if service is None or not service.is_public or not words:
        return []
    match = Q()
    for word in sorted(words)[:8]:
        match |= Q(title__icontains=word)
    return list(
        Incident.objects.filter(
            match, services=service, status__in=Incident.OPEN_STATUSES
        )
        .only("id", "title", "status", "logged_at")
        .order_by("-id")[:SIMILAR_LIMIT]
    )
