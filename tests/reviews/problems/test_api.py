"""The problems API: reads, create, update, each state change, link and unlink,
the timeline and recurrence; 404 for requesters everywhere, 400/403/409 for bad
input with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from incidents.models import Problem, ProblemEvent
from kb.models import Article
from tests.factories import make_category, make_incident, make_service
from tests.reviews.problems.conftest import make_problem

pytestmark = pytest.mark.django_db


class JsonClient(APIClient):
    """Writes sent as JSON, the API's only body format."""

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return super().post(path, data, format="json", **kwargs)

    def patch(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return super().patch(path, data, format="json", **kwargs)


def _api(user: Any) -> APIClient:
    client = JsonClient()
    client.force_authenticate(user)
    return client


def test_requesters_get_404_on_every_endpoint(crew: Any) -> None:
    problem = make_problem(crew=crew)
    api = _api(crew["requester"])
    n = problem.number
    for path in [
        "/api/v1/problems/",
        "/api/v1/problems/recurring/",
        f"/api/v1/problems/{n}/",
        f"/api/v1/problems/{n}/incidents/",
        f"/api/v1/problems/{n}/timeline/",
    ]:
        assert api.get(path).status_code == 404, path
    for path in [
        "/api/v1/problems/",
        f"/api/v1/problems/{n}/resolve/",
        f"/api/v1/problems/{n}/incidents/",
        f"/api/v1/problems/{n}/unlink/",
        "/api/v1/problems/recurring/",
    ]:
        assert api.post(path, {}).status_code == 404, path
    assert api.patch(f"/api/v1/problems/{n}/", {"title": "x"}).status_code == 404
    assert APIClient().get("/api/v1/problems/").status_code in (401, 403)


def test_create_read_and_list(crew: Any) -> None:
    incident = make_incident()
    api = _api(crew["member"])
    response = api.post(
        "/api/v1/problems/",
        {
            "title": "Mail delayed",
            "owner_team": crew["team"].pk,
            "incidents": [incident.number],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("PRB-")
    assert (body["status"], body["incident_count"], body["version"]) == ("open", 1, 1)
    assert body["owner_team"] == {"id": crew["team"].pk, "name": "Network"}
    listing = api.get("/api/v1/problems/", {"status": "active"}).json()
    assert [row["number"] for row in listing["results"]] == [body["number"]]
    assert api.get(f"/api/v1/problems/{body['number']}/").json()["title"] == (
        "Mail delayed"
    )
    incidents = api.get(f"/api/v1/problems/{body['number']}/incidents/").json()
    assert [row["number"] for row in incidents["results"]] == [incident.number]
    timeline = api.get(f"/api/v1/problems/{body['number']}/timeline/").json()
    assert {row["kind"] for row in timeline["results"]} == {
        "created",
        "incident_linked",
    }


def test_bad_create_is_a_400_and_writes_nothing(crew: Any) -> None:
    api = _api(crew["outsider"])
    incident = make_incident()
    cases = [
        {"title": "", "owner_team": crew["team"].pk},
        {"title": "x", "owner_team": 10**30},
        {"title": "x", "owner_team": crew["team"].pk},  # not their team
    ]
    for data in cases:
        assert api.post("/api/v1/problems/", data).status_code == 400
    response = _api(crew["member"]).post(
        "/api/v1/problems/",
        {"title": "x", "owner_team": crew["team"].pk, "incidents": ["INC-999999"]},
    )
    assert response.status_code == 404
    assert Problem.objects.count() == 0
    incident.refresh_from_db()
    assert incident.problem is None


def test_update_checks_the_version_and_the_caller(crew: Any) -> None:
    problem = make_problem(crew=crew)
    url = f"/api/v1/problems/{problem.number}/"
    member = _api(crew["member"])
    assert member.patch(url, {"title": "New", "version": 1}).status_code == 200
    stale = member.patch(url, {"title": "Newer", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    assert _api(crew["outsider"]).patch(url, {"title": "Mine"}).status_code == 403
    problem.refresh_from_db()
    assert (problem.title, problem.version) == ("New", 2)


def test_transitions_are_their_own_endpoints(crew: Any) -> None:
    problem = make_problem(crew=crew)
    n = problem.number
    api = _api(crew["incident_manager"])
    missing = api.post(f"/api/v1/problems/{n}/known-error/", {"version": 1})
    assert missing.status_code == 400 and "workaround" in missing.json()
    api.patch(f"/api/v1/problems/{n}/", {"workaround": "Reconnect"})
    published = api.post(f"/api/v1/problems/{n}/publish-workaround/", {})
    assert published.status_code == 200
    body = published.json()
    assert body["status"] == "known_error"
    assert body["known_error_article"] == Article.objects.get().number
    refused = api.post(f"/api/v1/problems/{n}/close/", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    api.patch(f"/api/v1/problems/{n}/", {"root_cause": "Cert"})
    assert api.post(f"/api/v1/problems/{n}/resolve/", {}).json()["status"] == "resolved"
    assert api.post(f"/api/v1/problems/{n}/close/", {}).json()["status"] == "closed"
    assert ProblemEvent.objects.filter(problem=problem, kind="transition").count() == 3


def test_link_and_unlink(crew: Any) -> None:
    problem = make_problem(crew=crew)
    incident = make_incident()
    api = _api(crew["member"])
    url = f"/api/v1/problems/{problem.number}/"
    linked = api.post(url + "incidents/", {"incident": incident.number})
    assert linked.status_code == 201
    assert api.post(url + "incidents/", {"incident": "nope"}).status_code == 404
    other = make_incident()
    assert api.post(url + "unlink/", {"incident": other.number}).status_code == 400
    assert api.post(url + "unlink/", {"incident": incident.number}).status_code == 200
    incident.refresh_from_db()
    assert incident.problem is None
    assert (
        _api(crew["manager"])
        .post(url + "incidents/", {"incident": incident.number})
        .status_code
        == 403
    )  # managers work problems, not incidents


def test_recurring_proposals_and_one_call_create(crew: Any) -> None:
    category, service = make_category(team=crew["team"]), make_service()
    incidents = [make_incident(category=category, services=[service]) for _ in range(3)]
    api = _api(crew["member"])
    proposals = api.get("/api/v1/problems/recurring/").json()
    assert [(p["signature"], p["count"]) for p in proposals] == [
        (incidents[0].signature, 3)
    ]
    created = api.post(
        "/api/v1/problems/recurring/", {"signature": incidents[0].signature}
    )
    assert created.status_code == 201
    assert created.json()["incident_count"] == 3
    assert api.get("/api/v1/problems/recurring/").json() == []
    again = api.post(
        "/api/v1/problems/recurring/", {"signature": incidents[0].signature}
    )
    assert again.status_code == 400
    assert Problem.objects.count() == 1


def test_the_schema_lists_the_problem_endpoints(crew: Any) -> None:
    schema = _api(crew["member"]).get("/api/schema/", {"format": "json"})
    paths = schema.json()["paths"]
    for path in [
        "/api/v1/problems/",
        "/api/v1/problems/{number}/",
        "/api/v1/problems/{number}/resolve/",
        "/api/v1/problems/{number}/known-error/",
        "/api/v1/problems/{number}/close/",
        "/api/v1/problems/{number}/publish-workaround/",
        "/api/v1/problems/{number}/incidents/",
        "/api/v1/problems/{number}/unlink/",
        "/api/v1/problems/{number}/timeline/",
        "/api/v1/problems/recurring/",
    ]:
        assert path in paths, path
