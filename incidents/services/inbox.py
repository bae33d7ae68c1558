"""A person's own things: their in-app notifications (read one, read all) and
their profile (time zone, which staff events reach them by email). Each acts on
the caller's rows only: someone else's notification is not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from incidents.models import InAppNotification, Profile
from incidents.services.notifications import EVENT_LABELS


def notification_mark_read(
    *, user: Any, pk: int, now: datetime | None = None
) -> InAppNotification:
    """Mark one of ``user``'s notifications read (again: no change). Raises
    ``Http404`` for a notification that is not theirs."""
    now = now or timezone.now()
    InAppNotification.objects.filter(pk=pk, user=user, read_at=None).update(read_at=now)
    try:
        return InAppNotification.objects.get(pk=pk, user=user)
    except InAppNotification.DoesNotExist:
        raise Http404("No such notification.") from None


def notifications_mark_all_read(*, user: Any, now: datetime | None = None) -> int:
    """Mark all of ``user``'s unread notifications read; returns how many."""
    return InAppNotification.objects.filter(user=user, read_at=None).update(
        read_at=now or timezone.now()
    )


def profile_of(user: Any) -> Profile:
    """``user``'s profile, made on first use with the defaults (the service's time
    zone, every event by email)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(
    *, user: Any, time_zone: str, email_events: list[str] | set[str]
) -> Profile:
    """Save ``user``'s time zone ("" for the service's) and the staff events they
    want by email (every other known event is muted)."""
    profile = profile_of(user)
    profile.time_zone = time_zone
    profile.email_muted = sorted(set(EVENT_LABELS) - set(email_events))
    profile.full_clean()
    profile.save()
    return profile
