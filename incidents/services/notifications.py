"""Notifications through an outbox.

``notify`` writes one row per recipient inside the caller's transaction, so a
notification exists exactly when its event does; after commit a worker is asked to
deliver it. If the broker is down the rows wait: the notification sweep (beat,
every 30 s) delivers whatever is due, so nothing is lost, only late. Delivery
claims a row with a conditional UPDATE, sends, and records the outcome; failures
are retried with exponential backoff, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.request
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from incidents.dispatch import send_task_by_name
from incidents.humanize import human_datetime
from incidents.models import (
    InAppNotification,
    Incident,
    Notification,
    Profile,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row claimed this long ago by a worker that never reported back is retried.
STALE_CLAIM = timedelta(minutes=5)
WEBHOOK_TIMEOUT_SECONDS = 10
# Named, not imported (see ``_dispatch``).
DELIVER_TASK = "incidents.tasks.notification_deliver_task"

# The staff events: what the subject says, and the preference's label. Subjects
# are formatted with the incident's number and priority, the clock, and ``due``
# (a time already in the recipient's zone, in the one human format).
SUBJECTS = {
    "sla_warning": "{number} ({priority}) will miss its {clock} target at {due}",
    "sla_breached": "{number} ({priority}) missed its {clock} target",
    "unassigned_major": "{number} ({priority}) has no assignee after 15 minutes",
    "update_overdue": "{number} ({priority}): a stakeholder update is overdue",
    "escalated": "{number} ({priority}) was escalated to {team}",
}
EVENT_LABELS = {
    "sla_warning": "An SLA target is about to be missed",
    "sla_breached": "An SLA target was missed",
    "unassigned_major": "A major incident has no assignee",
    "update_overdue": "A stakeholder update is overdue",
    "escalated": "An incident was escalated to your team",
}
# What the reader should do, one sentence per event (the email and the list).
ACTIONS = {
    "sla_warning": "Respond or move it on before the target passes, or hand it to someone who can.",
    "sla_breached": "Check who owns it now, and make sure someone is working on it.",
    "unassigned_major": "Assign it to someone now, or take it yourself.",
    "update_overdue": "Post a stakeholder update from the incident page.",
    "escalated": "Take it, or assign it to someone in the team who can work it.",
}


@dataclass(frozen=True)
class Recipient:
    """Someone a staff event concerns: a person (the in-app list, and email if
    they have an address and want it), or a team's shared mailbox (email only)."""

    user: Any = None
    address: str = ""


def incident_manager_users() -> QuerySet:
    """The active users who own major incidents."""
    User = get_user_model()
    return (
        User.objects.filter(
            Q(groups__permissions__codename="manage_major_incidents")
            | Q(user_permissions__codename="manage_major_incidents"),
            is_active=True,
        )
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )


def recipients(incident: Incident, event: str) -> list[Recipient]:
    """Who hears of ``event``: the assignee for a warning (without one: the team's
    mailbox and its lead) or an overdue update (without one: the incident
    managers); the incident managers and the team lead for a breach or an
    unassigned major incident."""
    team = incident.team
    lead = team.lead if team and team.lead and team.lead.is_active else None
    owner = (
        incident.assignee if incident.assignee and incident.assignee.is_active else None
    )
    people: list[Any]
    mailbox = ""
    if event == "sla_warning":
        people = [owner] if owner else [lead]
        mailbox = "" if owner or not team else team.email
    elif event == "update_overdue":
        people = [owner] if owner else list(incident_manager_users())
    elif event == "escalated":  # the receiving team (Team.escalation_audience)
        people = list(team.escalation_audience()[0]) if team else []
    else:
        people = [*incident_manager_users(), lead]
    found: dict[int, Recipient] = {}
    for person in people:
        if person is not None:
            found.setdefault(person.pk, Recipient(user=person, address=person.email))
    found_list = sorted(found.values(), key=lambda r: r.user.pk)
    if mailbox and mailbox not in {r.address for r in found_list}:
        found_list.append(Recipient(address=mailbox))
    return found_list


def _profile(user: Any) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def _dispatch(ids: list[int]) -> None:
    """Ask a worker to deliver now; if the broker cannot be reached the rows stay
    pending for the notification sweep. Never fails the caller's request.

    The task is named, not imported (see ``incidents.dispatch``)."""
    for pk in ids:
        try:
            send_task_by_name(DELIVER_TASK, pk)
        except Exception:  # noqa: BLE001 - the outbox row is the guarantee
            logger.warning(
                "broker unavailable; notification %s waits for the sweep", pk
            )


def incident_link(incident: Incident) -> str:
    """The incident's console page, as an absolute address for an email."""
    return settings.SITE_URL + reverse(
        "incidents:detail", kwargs={"number": incident.number}
    )


def staff_message(
    incident: Incident, event: str, *, zone: Any, **context: Any
) -> tuple[str, str, str]:
    """The subject, plain text and HTML of a staff email about ``event``, with
    every time shown in ``zone`` (the recipient's)."""
    due = context.get("due")
    when_due = human_datetime(due, zone) if isinstance(due, datetime) else ""
    facts = {
        "number": incident.number,
        "priority": f"P{incident.priority}" if incident.priority else "no priority",
        "clock": context.get("clock") or "",
        "due": when_due,
        "team": context.get("team") or "",
    }
    subject = " ".join(SUBJECTS[event].format(**facts).split())[:255]
    with timezone.override(zone):
        body_context = {
            "incident": incident,
            "event": event,
            "subject": subject,
            "priority": facts["priority"],
            "clock": facts["clock"],
            "due": when_due,
            "action": ACTIONS[event],
            "url": incident_link(incident),
            "preferences_url": settings.SITE_URL + reverse("incidents:profile"),
            "zone_name": str(zone),
            **{k: v for k, v in context.items() if k not in {"due", "clock"}},
        }
        text = render_to_string(
            f"incidents/email/staff/{event}.txt",
            {**body_context, "layout": "incidents/email/staff/_layout.txt"},
        )
        html = render_to_string(
            f"incidents/email/staff/{event}.txt",
            {**body_context, "layout": "incidents/email/staff/_layout.html"},
        )
    return subject, text, html


def notify(
    incident: Incident, event: str, *, at: datetime, **context: Any
) -> list[Notification]:
    """Write the notifications of a staff event (call inside its transaction):
    an in-app notification for every person it concerns, an email (rendered in
    their time zone) to those with an address who did not turn the event off,
    and a webhook call to each endpoint that wants it. ``due``, if given, is a
    datetime."""
    due = context.get("due")
    details = {
        "number": incident.number,
        "title": incident.title,
        "priority": f"P{incident.priority}" if incident.priority else "no priority",
        "status": incident.status,
        **{
            k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in context.items()
            if v is not None
        },
    }
    payload = {"event": event, "at": at.isoformat(), "incident": details}
    base = {
        "incident": incident,
        "event": event,
        "payload": payload,
        "next_attempt_at": at,
        "created_at": at,
    }
    default_zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    emails, in_app = [], []
    for recipient in recipients(incident, event):
        profile = _profile(recipient.user) if recipient.user else None
        zone = profile.zone if profile else default_zone
        subject, text, html = staff_message(incident, event, zone=zone, **context)
        if recipient.user is not None:
            in_app.append(
                InAppNotification(
                    user=recipient.user,
                    incident=incident,
                    event=event,
                    subject=subject,
                    action=ACTIONS[event],
                    created_at=at,
                )
            )
        if recipient.address and (profile is None or profile.wants_email(event)):
            emails.append(
                Notification(
                    channel=Notification.Channel.EMAIL,
                    recipient=recipient.address,
                    subject=subject,
                    body=text,
                    html_body=html,
                    **base,
                )
            )
    InAppNotification.objects.bulk_create(in_app)
    hook_subject = SUBJECTS[event].format(
        number=incident.number,
        priority=details["priority"],
        clock=context.get("clock") or "",
        due=due.isoformat() if isinstance(due, datetime) else "",
        team=context.get("team") or "",
    )
    hooks = [
        Notification(
            channel=Notification.Channel.WEBHOOK,
            recipient=hook.url,
            webhook=hook,
            subject=" ".join(hook_subject.split())[:255],
            body="",
            **base,
        )
        for hook in WebhookEndpoint.objects.filter(is_active=True)
        if hook.wants(event)
    ]
    return outbox_write(emails + hooks)


def outbox_write(rows: list[Notification]) -> list[Notification]:
    """Write notifications in the caller's transaction and ask a worker to deliver
    them once it commits."""
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: _dispatch(ids))
    return created


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_address_check(url: str) -> str:
    """A webhook address anyone may register (the status page's subscribers): an
    http(s) URL whose host resolves to public internet addresses only, never to
    this machine or the private network (unless
    ``STATUS_WEBHOOKS_ALLOW_PRIVATE``). Raises ``ValidationError``."""
    URLValidator(schemes=["http", "https"])(url)
    if settings.STATUS_WEBHOOKS_ALLOW_PRIVATE:
        return url
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise ValidationError("This address's host name does not resolve.") from exc
    if not all(ipaddress.ip_address(info[4][0]).is_global for info in infos):
        raise ValidationError("Webhooks may only go to public internet addresses.")
    return url


def _send(notification: Notification) -> None:
    if notification.channel == Notification.Channel.EMAIL:
        message = EmailMultiAlternatives(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient],
            headers=notification.payload.get("headers"),
        )
        if notification.html_body:
            message.attach_alternative(notification.html_body, "text/html")
        message.send()
        return
    if notification.status_subscriber_id is not None:
        # Registered by anyone: checked again now, the name may point elsewhere.
        webhook_address_check(notification.recipient)
        secret = notification.status_subscriber.secret
    else:
        secret = notification.webhook.secret
    body = json.dumps(notification.payload).encode()
    request = urllib.request.Request(
        notification.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-ITSM-Event": notification.event,
            "X-ITSM-Delivery": str(notification.pk),
            "X-ITSM-Signature": signature(secret, body),
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"webhook answered {response.status}")


def notification_deliver(*, pk: int, now: datetime | None = None) -> bool:
    """Deliver one notification if it is due and nobody else is delivering it.
    Returns whether it was sent now. Safe to call twice."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        pk=pk, status=Notification.Status.PENDING, next_attempt_at__lte=now
    ).update(
        status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False
    notification = Notification.objects.select_related(
        "webhook", "status_subscriber"
    ).get(pk=pk)
    try:
        _send(notification)
    except Exception as exc:  # noqa: BLE001 - any failure is retried, then given up
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=pk).update(
            status=Notification.Status.FAILED
            if failed
            else Notification.Status.PENDING,
            next_attempt_at=now + timedelta(minutes=2**notification.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.warning(
            "notification %s failed (attempt %s): %r", pk, notification.attempts, exc
        )
        return False
    Notification.objects.filter(pk=pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def notification_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Deliver what is due (the outbox's safety net), after putting back rows whose
    worker died while sending. Returns how many were sent."""
    now = now or timezone.now()
    Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=Notification.Status.PENDING)
    due = Notification.objects.filter(
        status=Notification.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    return sum(
        notification_deliver(pk=pk, now=now)
        for pk in due.values_list("pk", flat=True)[:limit]
    )
