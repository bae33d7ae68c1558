"""When a review opens: exactly once per incident, by the resolution hook or by
hand. P1/P2 always; a P3/P4 only when its error signature recurs."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Impact, Incident, Urgency
from reviews import services
from reviews.models import Review, ReviewIncident, ReviewPolicy
from tests.factories import make_category
from tests.reviews.conftest import resolved

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("priority", [1, 2])
def test_resolving_a_major_incident_opens_one_review(
    org: SimpleNamespace, priority: int
) -> None:
    incident = resolved(org, priority)
    review = Review.objects.get()
    assert review.incident == incident
    assert review.reason == Review.Reason.MAJOR
    assert list(review.incidents.all()) == [incident]
    assert review.status == Review.Status.DRAFT
    assert review.events.filter(kind="opened").count() == 1


@pytest.mark.parametrize("priority", [3, 4])
def test_a_one_off_minor_incident_opens_none(
    org: SimpleNamespace, priority: int
) -> None:
    resolved(org, priority)
    assert not Review.objects.exists()


def test_a_reopened_and_resolved_incident_does_not_open_a_second(
    org: SimpleNamespace,
) -> None:
    incident = resolved(org, 1)
    incident_services.incident_reopen(
        incident=incident, by=org.agent, reason="Mail bounces again."
    )
    incident_services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind="permanent_fix",
        resolution="Replaced the relay.",
        verification="Mail flows.",
    )
    assert Review.objects.count() == 1
    assert ReviewIncident.objects.filter(incident=incident).count() == 1


def test_a_p3_that_was_p1_while_open_opens_one(org: SimpleNamespace) -> None:
    incident = incident_services.incident_log(
        by=org.agent, title="Mail slow", source="agent", services=[org.service]
    )
    incident_services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
    )
    incident_services.incident_start_work(incident=incident, by=org.agent)
    incident_services.incident_update(
        incident=incident, by=org.agent, impact=Impact.LOW, urgency=Urgency.LOW
    )
    incident.refresh_from_db()
    assert incident.priority == 4
    incident_services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution_kind="workaround",
        resolution="Restarted.",
        verification="Fast again.",
    )
    assert Review.objects.get().reason == Review.Reason.MAJOR


def test_the_third_recurring_p3_opens_one_covering_all_three(
    org: SimpleNamespace,
) -> None:
    first = resolved(org, 3)
    second = resolved(org, 3)
    assert not Review.objects.exists()
    third = resolved(org, 3)
    review = Review.objects.get()
    assert review.reason == Review.Reason.RECURRING
    assert review.signature == third.signature != ""
    assert set(review.incidents.all()) == {first, second, third}
    # A fourth joins the review still being written rather than opening another.
    fourth = resolved(org, 4)
    assert Review.objects.count() == 1
    assert fourth in review.incidents.all()


def test_recurrence_counts_only_within_the_window(org: SimpleNamespace) -> None:
    now = timezone.now()
    resolved(org, 3, now=now - timedelta(days=40))
    resolved(org, 3, now=now - timedelta(days=1))
    resolved(org, 3, now=now)
    assert not Review.objects.exists()


def test_recurrence_follows_the_admin_policy(org: SimpleNamespace) -> None:
    ReviewPolicy.objects.create(recurrence_count=2)
    resolved(org, 4)
    resolved(org, 4)
    assert Review.objects.get().incidents.count() == 2


def test_other_signatures_do_not_add_up(org: SimpleNamespace) -> None:
    resolved(org, 3)
    resolved(org, 3, category=make_category(team=org.team, name="Calendar"))
    resolved(org, 3, category=make_category(team=org.team, name="Chat"))
    assert not Review.objects.exists()


def test_a_failing_hook_never_fails_the_resolution(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("review store down")

    monkeypatch.setattr(services, "_was_major", broken)
    incident = resolved(org, 1)
    assert incident.status == Incident.Status.RESOLVED
    assert not Review.objects.exists()


def test_an_incident_manager_opens_one_by_hand_with_a_reason(
    org: SimpleNamespace,
) -> None:
    incident = resolved(org, 4)
    with pytest.raises(ValidationError):
        services.review_open(incident=incident, by=org.lead, note=" ")
    with pytest.raises(PermissionDenied):
        services.review_open(incident=incident, by=org.agent, note="Odd one.")
    review = services.review_open(incident=incident, by=org.lead, note="Odd one.")
    assert review.reason == Review.Reason.MANUAL
    assert review.owner == org.lead
    with pytest.raises(services.ReviewConflict):
        services.review_open(incident=incident, by=org.lead, note="Again.")
    assert Review.objects.count() == 1


def test_due_dates_count_business_days_by_priority(org: SimpleNamespace) -> None:
    p1 = Review.objects.get(incident=resolved(org, 1))
    # Five weekdays (no business calendar: Monday to Friday) after opening.
    opened = p1.created_at
    days = 0
    day = opened.date()
    while days < 5:
        day += timedelta(days=1)
        days += day.weekday() < 5
    assert p1.due_at.date() == day


def test_the_recurrence_check_is_one_bounded_query(
    org: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    from reviews.selectors import signature_recurs

    incidents = [resolved(org, 4) for _ in range(2)]
    since = timezone.now() - timedelta(days=30)
    with django_assert_num_queries(1) as captured:
        assert not signature_recurs(incidents[0].signature, since=since, count=3)
    assert "LIMIT 3" in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(1):
        assert signature_recurs(incidents[0].signature, since=since, count=2)
