"""Reminders, sent by the beat sweep through the notification outbox: a review's
owner before its due date and once after it, each once; an overdue action item's
owner (the person, else the team's mailbox or lead) at most once a day.

Each row is claimed with a conditional UPDATE and acted on only if this call
changed exactly that row, so two sweeps at once, or one run twice, remind nobody
twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import Notification
from incidents.services.notifications import outbox_write
from kb.services import stale_recipients
from reviews.models import ActionItem, Review, ReviewPolicy

REVIEW_DUE_SOON = "review_due_soon"
REVIEW_OVERDUE = "review_overdue"
ACTION_ITEM_OVERDUE = "action_item_overdue"


def _emails(
    addresses: list[str],
    *,
    event: str,
    subject: str,
    at: datetime,
    incident_id: int | None = None,
    **details: Any,
) -> list[Notification]:
    details = {k: v for k, v in details.items() if v is not None}
    return [
        Notification(
            channel=Notification.Channel.EMAIL,
            recipient=address,
            incident_id=incident_id,
            event=event,
            subject=subject[:255],
            body="\n".join(f"{k}: {v}" for k, v in details.items()),
            payload={"event": event, "at": at.isoformat(), **details},
            next_attempt_at=at,
            created_at=at,
        )
        for address in addresses
    ]


def _claim_reviews(due: Q, field: str, *, now: datetime, batch: int) -> list[int]:
    claimed = []
    pks = list(
        Review.objects.filter(due)
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in pks:
        if Review.objects.filter(due, pk=pk).update(**{field: now}) == 1:
            claimed.append(pk)
    return claimed


def review_remind_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind each unapproved review's owner ``remind_before`` ahead of its due
    date, and once when it has passed. Returns how many reminders were sent."""
    now = now or timezone.now()
    policy = ReviewPolicy.current()
    writing = ~Q(status__in=Review.READ_ONLY) & Q(owner__isnull=False)
    sent = 0
    for field, due, event, wording in (
        (
            "reminded_before_at",
            writing
            & Q(reminded_before_at__isnull=True, reminded_after_at__isnull=True)
            & Q(due_at__gt=now, due_at__lte=now + policy.remind_before),
            REVIEW_DUE_SOON,
            "is due",
        ),
        (
            "reminded_after_at",
            writing & Q(reminded_after_at__isnull=True, due_at__lte=now),
            REVIEW_OVERDUE,
            "was due",
        ),
    ):
        with transaction.atomic():
            for pk in _claim_reviews(due, field, now=now, batch=batch):
                review = Review.objects.select_related("owner", "incident").get(pk=pk)
                if not review.owner.email:
                    continue
                outbox_write(
                    _emails(
                        [review.owner.email],
                        event=event,
                        subject=f"{review.number} {wording} "
                        f"{review.due_at:%Y-%m-%d %H:%M} UTC: "
                        f"{review.incident.title}",
                        at=now,
                        incident_id=review.incident_id,
                        review=review.number,
                        due=review.due_at.isoformat(),
                        url=review.get_absolute_url(),
                    )
                )
                sent += 1
    return sent


def action_item_remind_overdue(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind the owner of each open action item past its due date, at most once
    a (local) day. Returns how many items were reminded."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = Q(status__in=ActionItem.OPEN_STATUSES, due_on__lt=today) & (
        Q(reminded_on__isnull=True) | Q(reminded_on__lt=today)
    )
    pks = list(
        ActionItem.objects.filter(due)
        .order_by("due_on", "id")
        .values_list("pk", flat=True)[:batch]
    )
    sent = 0
    for pk in pks:
        with transaction.atomic():
            if ActionItem.objects.filter(due, pk=pk).update(reminded_on=today) != 1:
                continue
            item = ActionItem.objects.select_related(
                "owner_user", "owner_team__lead", "review"
            ).get(pk=pk)
            if item.owner_user_id:
                addresses = [item.owner_user.email] if item.owner_user.email else []
            else:
                addresses = stale_recipients(item.owner_team)
            outbox_write(
                _emails(
                    addresses,
                    event=ACTION_ITEM_OVERDUE,
                    subject=f"{item.number} is overdue (due {item.due_on}): "
                    f"{item.title}",
                    at=now,
                    item=item.number,
                    due=item.due_on.isoformat(),
                    review=item.review.number if item.review_id else None,
                    url=item.get_absolute_url(),
                )
            )
            sent += 1
    return sent


__all__ = ["action_item_remind_overdue", "review_remind_due"]
