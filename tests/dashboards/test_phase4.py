"""Phase 4 on the dashboards: reviews and action items by team, and the times a
review corrected (conftest.week: B, a P1, and C, once a P2, each got a review
when resolved)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from dashboards.access import Scope
from dashboards.forms import Filters
from dashboards.services import rollup_refresh
from reviews.models import Review
from reviews.services import action_item_create, review_milestone_set
from tests.dashboards.conftest import NOW, at
from tests.dashboards.test_figures import read, values

pytestmark = pytest.mark.django_db


def test_reviews_and_action_items_by_team(refreshed: SimpleNamespace) -> None:
    p = refreshed.people
    review = Review.objects.get(incident=refreshed.b)
    assert Review.objects.filter(incident=refreshed.c).exists()
    action_item_create(
        by=p.incident_manager,
        title="Alert on queue depth",
        due_on=date(2026, 3, 3),  # Tuesday: overdue on Wednesday
        owner_team=p.other,
        review=review,
        now=at(1, 11),
    )
    action_item_create(
        by=p.incident_manager,
        title="Runbook for the mail relay",
        due_on=date(2026, 3, 20),
        owner_user=p.agent,  # a person: counted for the review's team
        review=review,
        now=at(1, 11),
    )
    rows = values(read(), "phase4")
    assert rows["Network"] == {
        "team": "Network",
        "reviews_open": 0,
        "reviews_overdue": 0,
        "items_open": 1,
        "items_overdue": 1,
    }
    assert rows["Service Desk"] == {
        "team": "Service Desk",
        "reviews_open": 2,
        "reviews_overdue": 0,
        "items_open": 1,
        "items_overdue": 0,
    }
    # Overdue first.
    assert list(rows) == ["Network", "Service Desk"]
    # An agent of Service Desk sees their team only; the team filter narrows too.
    mine = Scope(team_ids=frozenset({p.team.pk}))
    assert list(values(read(scope=mine), "phase4")) == ["Service Desk"]
    assert list(values(read(Filters(team=p.other.pk)), "phase4")) == ["Network"]


def test_reviews_past_their_due_time_are_overdue(refreshed: SimpleNamespace) -> None:
    later = max(Review.objects.values_list("due_at", flat=True)) + timedelta(hours=1)
    rollup_refresh(now=later)
    rows = values(read(), "phase4")
    assert (
        rows["Service Desk"]["reviews_open"],
        rows["Service Desk"]["reviews_overdue"],
    ) == (2, 2)


def test_a_corrected_resolution_changes_the_time_not_the_outcome(
    refreshed: SimpleNamespace,
) -> None:
    before = values(read(), "times")[1]
    compliance = values(read(), "compliance_priority")
    assert before["mttr_mean_seconds"] == 4 * 3600 + 30 * 60
    review = Review.objects.get(incident=refreshed.b)
    # Service was back at Tue 10:00, half an hour before anyone said so: 3 h on
    # Monday plus Tue 09:00-10:00 after the reopen.
    review_milestone_set(
        review=review,
        by=refreshed.people.incident_manager,
        incident=refreshed.b,
        name="resolved",
        at=at(1, 10),
        now=NOW,
    )
    rollup_refresh(now=NOW + timedelta(minutes=1))
    after = values(read(), "times")[1]
    assert after["mttr_mean_seconds"] == 4 * 3600
    assert after["mtta_mean_seconds"] == before["mtta_mean_seconds"]
    assert values(read(), "compliance_priority") == compliance
