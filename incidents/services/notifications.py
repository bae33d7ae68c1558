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
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents.models import Incident, Notification, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row claimed this long ago by a worker that never reported back is retried.
STALE_CLAIM = timedelta(minutes=5)
WEBHOOK_TIMEOUT_SECONDS = 10

SUBJECTS = {
    "sla_warning": "{number} will miss its {clock} target at {due}",
    "sla_breached": "{number} missed its {clock} target",
    "unassigned_major": "{number} ({priority}) has no assignee after 15 minutes",
    "update_overdue": "{number}: a stakeholder update is overdue",
    "escalated": "{number} ({priority}) was escalated to {team}",
}


def incident_managers() -> list[str]:
    """Addresses of the active users who own major incidents."""
    User = get_user_model()
    return list(
        User.objects.filter(
            Q(groups__permissions__codename="manage_major_incidents")
            | Q(user_permissions__codename="manage_major_incidents"),
            is_active=True,
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def recipients(incident: Incident, event: str) -> list[str]:
    """Who hears of ``event``: the owner for a warning or an overdue update; the
    incident managers and the team lead for a breach or an unassigned major
    incident."""
    team = incident.team
    lead = team.lead.email if team and team.lead and team.lead.email else None
    owner = incident.assignee.email if incident.assignee else None
    if event == "sla_warning":
        found = [owner or (team.email if team else None) or lead]
    elif event == "update_overdue":
        found = [owner] if owner else incident_managers()
    elif event == "escalated":  # the receiving team (Team.escalation_audience)
        found = (
            [person.email for person in team.escalation_audience()[0]] if team else []
        )
    else:
        found = [*incident_managers(), lead]
    return sorted({address for address in found if address})


def _dispatch(ids: list[int]) -> None:
    """Ask a worker to deliver now; if the broker cannot be reached the rows stay
    pending for the notification sweep. Never fails the caller's request."""
    from incidents.tasks import notification_deliver_task

    for pk in ids:
        try:
            notification_deliver_task.apply_async((pk,), retry=False)
        except Exception:  # noqa: BLE001 - the outbox row is the guarantee
            logger.warning(
                "broker unavailable; notification %s waits for the sweep", pk
            )


def notify(
    incident: Incident, event: str, *, at: datetime, **context: Any
) -> list[Notification]:
    """Write the notifications of an incident event (call inside its transaction)."""
    details = {
        "number": incident.number,
        "title": incident.title,
        "priority": f"P{incident.priority}" if incident.priority else "no priority",
        "status": incident.status,
        **{k: v for k, v in context.items() if v is not None},
    }
    due = details.get("due")
    subject = SUBJECTS[event].format(**{"due": due or "", "clock": "", **details})
    body = "\n".join(f"{key}: {value}" for key, value in details.items())
    payload = {"event": event, "at": at.isoformat(), "incident": details}
    message = {
        "incident": incident,
        "event": event,
        "subject": subject,
        "body": body,
        "payload": payload,
        "next_attempt_at": at,
        "created_at": at,
    }
    emails = [
        Notification(channel=Notification.Channel.EMAIL, recipient=address, **message)
        for address in recipients(incident, event)
    ]
    hooks = [
        Notification(
            channel=Notification.Channel.WEBHOOK,
            recipient=hook.url,
            webhook=hook,
            **message,
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
        EmailMessage(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient],
            headers=notification.payload.get("headers"),
        ).send()
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
