"""Recurrence proposes a problem: the Nth incident of one error signature in the
window, with no open problem covering it, is proposed on the problem list and to
the review page; one click creates the problem linked to those incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import (
    Impact,
    Incident,
    IncidentEvent,
    Problem,
    ProblemEvent,
    Urgency,
)
from reviews.models import ReviewPolicy
from reviews.problems import recurrence, services
from tests.factories import make_category, make_incident, make_service
from tests.reviews.problems.conftest import make_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def kind(crew: Any) -> Any:
    """One kind of error: a category of the crew's team, and a service."""
    return make_category(team=crew["team"], name="Network"), make_service(name="VPN")


def _proposals() -> list[Any]:
    """The proposals as the database has them now (not the cached list)."""
    return recurrence.recurring_proposals(now=timezone.now())


def _incidents(kind: Any, n: int, *, days_ago: int = 0) -> list[Any]:
    category, service = kind
    at = timezone.now() - timedelta(days=days_ago)
    return [
        make_incident(category=category, services=[service], now=at) for _ in range(n)
    ]


def test_two_do_not_recur_the_third_does(crew: Any, kind: Any) -> None:
    first, second = _incidents(kind, 2)
    assert recurrence.recurring_proposal_for(second) is None
    assert _proposals() == []
    (third,) = _incidents(kind, 1)
    proposal = recurrence.recurring_proposal_for(third)
    assert proposal is not None
    assert (proposal.signature, proposal.count) == (third.signature, 3)
    assert "VPN" in proposal.label and "Network" in proposal.label
    assert _proposals() == [proposal]


def test_incidents_outside_the_window_do_not_count(crew: Any, kind: Any) -> None:
    _incidents(kind, 2, days_ago=31)
    (latest,) = _incidents(kind, 1)
    assert recurrence.recurring_proposal_for(latest) is None
    assert _proposals() == []


def test_the_rule_is_the_admins_review_policy(crew: Any, kind: Any) -> None:
    ReviewPolicy.objects.create(
        recurrence_count=2, recurrence_window=timedelta(days=40)
    )
    _incidents(kind, 1, days_ago=35)
    (latest,) = _incidents(kind, 1)
    assert recurrence.recurring_proposal_for(latest).count == 2


def test_an_open_problem_covers_it_a_resolved_one_does_not(
    crew: Any, kind: Any
) -> None:
    incidents = _incidents(kind, 3)
    problem = make_problem(crew=crew, incidents=incidents[:1], root_cause="Cert")
    assert recurrence.recurring_proposal_for(incidents[-1]) is None
    assert _proposals() == []
    services.problem_resolve(problem=problem, by=crew["member"])
    assert recurrence.recurring_proposal_for(incidents[-1]) is not None
    assert len(_proposals()) == 1


def test_one_click_creates_the_problem_linked_to_them(crew: Any, kind: Any) -> None:
    incidents = _incidents(kind, 3)
    incident_services.incident_cancel(
        incident=_incidents(kind, 1)[0], by=None, reason="Logged twice"
    )
    client = Client()
    client.force_login(crew["member"])
    page = client.get("/problems/").content.decode()
    assert "Recurring: <strong>3</strong> incidents with signature" in page
    assert incidents[0].signature in page
    response = client.post(
        "/problems/recurring/", {"signature": incidents[0].signature}
    )
    problem = Problem.objects.get()
    assert response["Location"] == f"/problems/{problem.number}/"
    assert problem.owner_team == crew["team"]
    assert set(problem.incidents.values_list("pk", flat=True)) == {
        i.pk for i in incidents
    }
    assert problem.events.filter(kind=ProblemEvent.Kind.INCIDENT_LINKED).count() == 3
    for incident in incidents:
        assert incident.events.filter(kind=IncidentEvent.Kind.PROBLEM_LINKED).exists()
    # Covered now: no longer proposed, and a second click opens nothing.
    assert "Recurring errors" not in client.get("/problems/").content.decode()
    client.post("/problems/recurring/", {"signature": incidents[0].signature})
    assert Problem.objects.count() == 1


def _close(incident: Any, agent: Any) -> None:
    incident_services.incident_triage(
        incident=incident,
        by=agent,
        category=incident.category,
        impact=Impact.LOW,
        urgency=Urgency.LOW,
    )
    incident_services.incident_assign(incident=incident, by=agent, assignee=agent)
    incident_services.incident_start_work(incident=incident, by=agent)
    incident_services.incident_resolve(
        incident=incident,
        by=agent,
        resolution_kind="workaround",
        resolution="Reconnected.",
        verification="User confirmed.",
    )
    incident_services.incident_close_unconfirmed(
        incident=incident, now=timezone.now() + timedelta(days=30)
    )
    assert incident.status == Incident.Status.CLOSED


def test_closed_incidents_are_linked_too(crew: Any, kind: Any) -> None:
    incidents = _incidents(kind, 3)
    for incident in incidents[:2]:
        _close(incident, crew["member"])
    problem = recurrence.problem_create_from_recurrence(
        by=crew["incident_manager"], signature=incidents[0].signature
    )
    assert problem.incidents.count() == 3


def test_a_signature_that_does_not_recur_is_refused(crew: Any, kind: Any) -> None:
    incidents = _incidents(kind, 2)
    with pytest.raises(ValidationError):
        recurrence.problem_create_from_recurrence(
            by=crew["member"], signature=incidents[0].signature
        )
    client = Client()
    client.force_login(crew["member"])
    response = client.post("/problems/recurring/", {"signature": "alert:1:nope"})
    assert response.status_code == 302
    assert client.post("/problems/recurring/", {}).status_code == 400
    assert Problem.objects.count() == 0


def test_the_recurrence_check_is_two_indexed_queries(
    crew: Any, kind: Any, django_assert_num_queries: Any
) -> None:
    incidents = _incidents(kind, 3)
    # the policy, count, covered, service and category names
    with django_assert_num_queries(5):
        assert recurrence.recurring_proposal_for(incidents[-1]) is not None
    blank = make_incident()
    with django_assert_num_queries(0):
        assert recurrence.recurring_proposal_for(blank) is None


def test_the_list_keeps_its_proposals_a_minute(crew: Any, kind: Any) -> None:
    incidents = _incidents(kind, 2)
    assert recurrence.recurring_proposals() == []
    _incidents(kind, 1)
    assert recurrence.recurring_proposals() == []  # cached
    recurrence.proposals_changed()
    assert len(recurrence.recurring_proposals()) == 1
    recurrence.problem_create_from_recurrence(
        by=crew["member"], signature=incidents[0].signature
    )
    assert recurrence.recurring_proposals() == []  # forgotten by the create


def test_the_list_counts_the_window_in_two_queries(
    crew: Any, kind: Any, django_assert_num_queries: Any
) -> None:
    _incidents(kind, 3)
    other = make_category(team=crew["team"]), make_service()
    _incidents(other, 3)
    # the policy, counts, covered; two labels of two
    with django_assert_num_queries(1 + 2 + 4):
        assert len(_proposals()) == 2
