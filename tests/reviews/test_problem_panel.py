"""Reviews meet problems: the problem page's panel lists the reviews and action
items behind a problem, and a recurring error's review proposes one."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services as incident_services
from reviews import services
from reviews.models import Review
from reviews.problems.services import problem_create
from tests.reviews.conftest import resolved
from tests.reviews.test_views import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def problem(org: SimpleNamespace) -> Any:
    return problem_create(by=org.lead, title="Mail relay stalls", owner_team=org.team)


def _panel(user: Any, problem: Any) -> Any:
    return client_for(user).get(reverse("reviews:problem_panel", args=[problem.number]))


def test_the_panel_lists_the_reviews_and_items_behind_a_problem(
    org: SimpleNamespace, problem: Any
) -> None:
    incident = resolved(org, 1)
    review = Review.objects.get(incident=incident)
    incident_services.incident_link_problem(
        incident=incident, by=org.agent, problem=problem
    )
    item = services.action_item_create(
        by=org.agent,
        title="Rotate the relay logs",
        owner_team=org.team,
        due_on=timezone.localdate() + timedelta(days=5),
        problem=problem,
    )
    unrelated = Review.objects.get(incident=resolved(org, 2, title="VPN down"))
    page = _panel(org.agent, problem).content.decode()
    assert review.number in page and item.title in page
    assert unrelated.number not in page


def test_the_panel_costs_the_same_with_more_incidents(
    org: SimpleNamespace, problem: Any, django_assert_num_queries: Any
) -> None:
    def link_one(title: str) -> None:
        incident = resolved(org, 1, title=title)
        incident_services.incident_link_problem(
            incident=incident, by=org.agent, problem=problem
        )

    link_one("First")
    client = client_for(org.agent)
    url = reverse("reviews:problem_panel", args=[problem.number])
    client.get(url)  # the session, once
    with django_assert_num_queries(4) as one:
        client.get(url)
    for n in range(4):
        link_one(f"More {n}")
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('href="/reviews/') == 5


def test_requesters_get_404(org: SimpleNamespace, problem: Any) -> None:
    assert _panel(org.requester, problem).status_code == 404


def test_a_recurring_errors_review_proposes_a_problem(org: SimpleNamespace) -> None:
    for n in range(3):
        resolved(org, 3, title=f"Mail slow {n}")
    review = Review.objects.get(reason=Review.Reason.RECURRING)
    page = client_for(org.lead).get(review.get_absolute_url()).content.decode()
    assert "Recurring: <strong>3</strong> incidents" in page
    assert reverse("problems:from_recurrence") in page
