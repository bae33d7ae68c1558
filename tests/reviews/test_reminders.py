"""Reminders through the outbox, shown with time travel: each sent once."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from incidents.models import Notification
from reviews import reminders, services, tasks
from reviews.models import Review
from tests.reviews.conftest import resolved

pytestmark = pytest.mark.django_db


def sent(event: str) -> list[Notification]:
    return list(Notification.objects.filter(event=event))


def test_review_owner_is_reminded_before_and_after_the_due_date_once_each(
    org: SimpleNamespace,
) -> None:
    review = Review.objects.get(incident=resolved(org, 1))
    due = review.due_at
    assert reminders.review_remind_due(now=due - timedelta(days=3)) == 0
    assert reminders.review_remind_due(now=due - timedelta(hours=12)) == 1
    assert reminders.review_remind_due(now=due - timedelta(hours=6)) == 0
    [before] = sent(reminders.REVIEW_DUE_SOON)
    assert before.recipient == org.agent.email
    assert review.number in before.subject
    assert reminders.review_remind_due(now=due + timedelta(hours=1)) == 1
    assert reminders.review_remind_due(now=due + timedelta(days=5)) == 0
    assert len(sent(reminders.REVIEW_OVERDUE)) == 1
    assert len(sent(reminders.REVIEW_DUE_SOON)) == 1


def test_an_approved_review_is_not_reminded(org: SimpleNamespace) -> None:
    review = Review.objects.get(incident=resolved(org, 1))
    services.review_update(review=review, by=org.agent, root_cause="Disk full.")
    services.review_submit(review=review, by=org.agent)
    services.review_approve(review=review, by=org.lead)
    assert reminders.review_remind_due(now=review.due_at + timedelta(days=1)) == 0


def test_overdue_action_items_remind_at_most_once_a_day(org: SimpleNamespace) -> None:
    review = Review.objects.get(incident=resolved(org, 1))
    today = timezone.localdate()
    mine = services.action_item_create(
        by=org.agent,
        review=review,
        title="Rotate logs",
        owner_user=org.agent,
        due_on=today,
    )
    org.team.email = "desk@example.com"
    org.team.save()
    theirs = services.action_item_create(
        by=org.agent,
        review=review,
        title="Alert on disk",
        owner_team=org.team,
        due_on=today + timedelta(days=2),
    )
    now = timezone.now()
    assert reminders.action_item_remind_overdue(now=now) == 0
    tomorrow = now + timedelta(days=1)
    assert reminders.action_item_remind_overdue(now=tomorrow) == 1
    assert reminders.action_item_remind_overdue(now=tomorrow + timedelta(hours=2)) == 0
    assert reminders.action_item_remind_overdue(now=now + timedelta(days=3)) == 2
    recipients = sorted(n.recipient for n in sent(reminders.ACTION_ITEM_OVERDUE))
    assert recipients == sorted([org.agent.email, org.agent.email, "desk@example.com"])
    services.action_item_complete(item=mine, by=org.agent)
    services.action_item_complete(item=theirs, by=org.agent)
    assert reminders.action_item_remind_overdue(now=now + timedelta(days=9)) == 0


def test_the_beat_task_runs_both_sweeps(org: SimpleNamespace) -> None:
    assert tasks.reviews_remind_task() == {"reviews": 0, "action_items": 0}
