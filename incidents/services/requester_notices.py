"""Emails to the requester, through the notification outbox: on logging, on each
public reply, on a question the work waits for, on resolution (with the confirm and reopen links), and on closure.

They say only what the requester may see: the title, the state in plain words and
public replies; never work notes, internal fields or other people's incidents.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from incidents.models import Incident, IncidentNote, Notification
from incidents.services.notifications import outbox_write

SUBJECTS = {
    "requester_logged": "{number} received: {title}",
    "requester_reply": "{number}: a new reply on {title}",
    "requester_question": "{number}: we need your answer to go on",
    "requester_resolved": "{number} is resolved: please confirm the fix",
    "requester_closed": "{number} is closed",
    "requester_cancelled": "{number} is cancelled",
    "requester_merged": "{number} is handled with another report",
    "requester_duplicate_resolved": "{number} is fixed: {title}",
}

# Transitions the requester hears of, by the event they cause.
TRANSITION_EVENTS = {
    "resolve": "requester_resolved",
    "confirm": "requester_closed",
    "close": "requester_closed",
    "cancel": "requester_cancelled",
    "merge": "requester_merged",
}


def ticket_url(incident: Incident) -> str:
    """The requester's page of ``incident``, as an absolute address."""
    return settings.SITE_URL + reverse(
        "incidents:ticket", kwargs={"number": incident.number}
    )


def requester_notify(
    incident: Incident,
    event: str,
    *,
    at: datetime,
    note: IncidentNote | None = None,
    about: Incident | None = None,
) -> Notification | None:
    """Write the requester's email for ``event`` (call inside the event's
    transaction). Nothing is written for an incident without a requester, or one
    whose requester has no address or is no longer active."""
    requester = incident.requester
    if requester is None or not requester.email or not requester.is_active:
        return None
    url = ticket_url(incident)
    context = {
        "incident": incident,
        "requester": requester,
        "note": note,
        "about": about,
        "url": url,
        "confirm_url": f"{url}#confirm",
        "reopen_url": f"{url}#reopen",
    }
    subject = SUBJECTS[event].format(number=incident.number, title=incident.title)
    [notification] = outbox_write(
        [
            Notification(
                channel=Notification.Channel.EMAIL,
                recipient=requester.email,
                incident=incident,
                event=event,
                # A title may hold a line break pasted by someone: headers must not.
                subject=" ".join(subject.split())[:255],
                body=render_to_string(f"incidents/email/{event}.txt", context),
                payload={
                    "event": event,
                    "at": at.isoformat(),
                    "number": incident.number,
                },
                next_attempt_at=at,
                created_at=at,
            )
        ]
    )
    return notification


def duplicates_notify(incident: Incident, *, at: datetime) -> list[Notification]:
    """Tell the requesters of the reports merged into ``incident`` that it is
    fixed: their own tickets ended at the merge, the problem did not."""
    sent = []
    for duplicate in incident.duplicates.select_related("requester"):
        notice = requester_notify(
            duplicate, "requester_duplicate_resolved", at=at, about=incident
        )
        if notice is not None:
            sent.append(notice)
    return sent
