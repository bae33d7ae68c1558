"""Publishing a problem's workaround writes its known-error article (the first time)
or a new version of it (after), and triage shows it on new matching incidents."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from incidents.exceptions import IncidentConflict
from incidents.models import Problem, ProblemEvent
from kb.models import Article
from reviews.problems import services
from tests.factories import make_incident
from tests.reviews.problems.conftest import make_problem

pytestmark = pytest.mark.django_db


def _problem(crew: Any, **overrides: Any) -> Problem:
    fields = {
        "description": "The VPN tunnel drops for branch users every hour.",
        "root_cause": "The concentrator's certificate expired.",
        "workaround": "Reconnect the VPN client; it renews the session.",
        **overrides,
    }
    return make_problem(crew=crew, **fields)


def test_publishing_writes_the_article_and_makes_it_a_known_error(crew: Any) -> None:
    problem = _problem(crew)
    article = services.problem_publish_workaround(
        problem=problem, by=crew["incident_manager"], version=1
    )
    assert article.kind == Article.Kind.KNOWN_ERROR
    assert article.status == Article.Status.PUBLISHED
    assert article.problem == problem and article.owner_team == crew["team"]
    assert "Reconnect the VPN client" in article.body
    problem.refresh_from_db()
    assert problem.status == Problem.Status.KNOWN_ERROR and problem.is_known_error
    published = problem.events.get(kind=ProblemEvent.Kind.ARTICLE_PUBLISHED)
    assert published.data == {"article": article.number, "version": 1}


def test_publishing_again_updates_the_same_article(crew: Any) -> None:
    problem = _problem(crew)
    first = services.problem_publish_workaround(
        problem=problem, by=crew["incident_manager"]
    )
    services.problem_update(
        problem=problem,
        by=crew["member"],
        version=problem.version,
        workaround="Use the backup tunnel.",
    )
    again = services.problem_publish_workaround(
        problem=problem, by=crew["incident_manager"]
    )
    assert again.pk == first.pk
    assert Article.objects.filter(problem=problem).count() == 1
    assert again.versions.count() == 2
    assert "backup tunnel" in again.body and again.status == Article.Status.PUBLISHED


def test_a_new_matching_incident_shows_it_at_triage(crew: Any) -> None:
    problem = _problem(crew)
    article = services.problem_publish_workaround(
        problem=problem, by=crew["incident_manager"]
    )
    incident = make_incident(title="VPN tunnel drops again for the branch")
    client = Client()
    client.force_login(crew["member"])
    panel = client.get(f"/kb/incidents/{incident.number}/panels/").content.decode()
    assert article.number in panel
    assert "Reconnect the VPN client" in panel
    page = client.get(f"/problems/{problem.number}/").content.decode()
    assert f'href="/kb/{article.number}/"' in page


def test_bad_input_writes_nothing(crew: Any) -> None:
    problem = _problem(crew, workaround="")
    with pytest.raises(ValidationError) as caught:
        services.problem_publish_workaround(
            problem=problem, by=crew["incident_manager"]
        )
    assert "workaround" in caught.value.message_dict
    with pytest.raises(PermissionDenied):  # agents write, incident managers publish
        services.problem_publish_workaround(problem=problem, by=crew["member"])
    with pytest.raises(PermissionDenied):
        services.problem_publish_workaround(
            problem=_problem(crew), by=crew["requester"]
        )
    resolved = _problem(crew)
    services.problem_resolve(problem=resolved, by=crew["member"])
    with pytest.raises(IncidentConflict):
        services.problem_publish_workaround(
            problem=resolved, by=crew["incident_manager"]
        )
    assert Article.objects.count() == 0
    problem.refresh_from_db()
    assert problem.status == Problem.Status.OPEN


def test_publish_from_the_page(crew: Any) -> None:
    problem = _problem(crew)
    client = Client()
    client.force_login(crew["incident_manager"])
    page = client.get(f"/problems/{problem.number}/").content.decode()
    assert "Publish the workaround as a known error" in page
    response = client.post(f"/problems/{problem.number}/publish/", {"version": 1})
    assert response.status_code == 302
    assert Article.objects.get().problem == problem
    member = Client()
    member.force_login(crew["member"])
    page = member.get(f"/problems/{problem.number}/").content.decode()
    assert "Publish the workaround" not in page
    assert (
        member.post(f"/problems/{problem.number}/publish/", {"version": 2}).status_code
        == 403
    )
