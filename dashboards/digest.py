"""The weekly digest: last week's headline figures by email, through the
notification outbox, to each person who asked for it (``DigestSubscription``),
within what they may read (an agent's digest covers their teams)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboards.access import dashboard_scope
from dashboards.forms import Filters, Period
from dashboards.models import DigestSubscription
from dashboards.selectors import Dashboard, Names, dashboard_data
from incidents.models import Notification
from incidents.services.notifications import outbox_write

EVENT = "dashboard_digest"


def last_full_week(today: date) -> Period:
    """Monday to Sunday of the last week that is over."""
    monday = today - timedelta(days=today.weekday() + 7)
    return Period(monday, monday + timedelta(days=6), "Last week")


def digest_text(data: Dashboard) -> str:
    """The digest's body: each headline figure with the link to its incidents."""
    period = data.period
    query = urlencode(
        {"start": period.first.isoformat(), "end": period.last.isoformat()}
    )
    lines = [
        f"Incidents, {period.first:%a %d %b} to {period.last:%a %d %b %Y} "
        f"({settings.TIME_ZONE}).",
        "",
    ]
    for label, cell in data.headline.rows:
        link = f"\n    {settings.SITE_URL}{cell.url}" if cell.url else ""
        lines.append(f"- {label.text}: {cell.text}{link}")
    lines += [
        "",
        f"The whole week: {settings.SITE_URL}{reverse('dashboards:index')}?{query}",
        "You get this because you asked for the weekly digest on the dashboards; "
        "the same page stops it.",
    ]
    return "\n".join(lines)


def _due(monday: date) -> Q:
    return Q(last_week__isnull=True) | Q(last_week__lt=monday)


def digest_send(*, now: datetime | None = None) -> int:
    """Write last week's digest for everyone who asked and has not had it; each
    person's week is claimed (a conditional UPDATE) in the transaction that writes
    their email, so a second run sends nothing twice. Returns how many were
    written."""
    now = now or timezone.now()
    period = last_full_week(timezone.localdate(now))
    names = Names.load()
    written = 0
    pending = DigestSubscription.objects.filter(_due(period.first)).select_related(
        "user"
    )
    for subscription in pending:
        with transaction.atomic():
            claimed = DigestSubscription.objects.filter(
                _due(period.first), pk=subscription.pk
            ).update(last_week=period.first)
            if claimed != 1:
                continue
            user = subscription.user
            scope = dashboard_scope(user)
            if scope is None or not user.email:
                continue  # no longer allowed, or nowhere to send: skip this week
            data = dashboard_data(
                scope=scope, period=period, filters=Filters(), names=names
            )
            outbox_write(
                [
                    Notification(
                        channel=Notification.Channel.EMAIL,
                        recipient=user.email,
                        event=EVENT,
                        subject=f"Incidents last week ({period.first:%d %b} to "
                        f"{period.last:%d %b %Y})",
                        body=digest_text(data),
                        payload={
                            "event": EVENT,
                            "week": period.first.isoformat(),
                            "headline": data.headline.records(),
                        },
                        next_attempt_at=now,
                        created_at=now,
                    )
                ]
            )
            written += 1
    return written
