"""The problem pages: who sees them, what they show, each write through its
service, bad input as a clear 4xx, and a problem page that costs the same few
queries with five or five hundred incidents."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents.models import IncidentEvent, Problem, ProblemEvent
from reviews.problems import services
from tests.factories import make_incident
from tests.reviews.problems.conftest import make_problem

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pages(problem: Problem) -> list[str]:
    n = problem.number
    return [
        "/problems/",
        "/problems/new/",
        f"/problems/{n}/",
        f"/problems/{n}/edit/",
    ]


def test_requesters_get_404_on_every_page_and_write(crew: Any) -> None:
    problem = make_problem(crew=crew, workaround="Reconnect")
    client = _client(crew["requester"])
    for path in _pages(problem):
        assert client.get(path).status_code == 404, path
    for path in [
        "/problems/recurring/",
        f"/problems/{problem.number}/link/",
        f"/problems/{problem.number}/resolve/",
        f"/problems/{problem.number}/publish/",
        f"/problems/{problem.number}/unlink/INC-000001/",
    ]:
        assert client.post(path, {"version": 1}).status_code == 404, path
    problem.refresh_from_db()
    assert problem.status == Problem.Status.OPEN


def test_anonymous_visitors_are_sent_to_log_in(crew: Any) -> None:
    response = Client().get("/problems/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["member", "outsider", "incident_manager", "manager"])
def test_staff_read_the_list_and_the_page(crew: Any, who: str) -> None:
    problem = make_problem(crew=crew)
    client = _client(crew[who])
    listing = client.get("/problems/")
    assert listing.status_code == 200
    assert problem.number in listing.content.decode()
    page = client.get(f"/problems/{problem.number}/")
    assert page.status_code == 200
    may_edit = who != "outsider"
    assert (f"/problems/{problem.number}/edit/" in page.content.decode()) == may_edit
    assert client.get(f"/problems/{problem.number}/edit/").status_code == (
        200 if may_edit else 403
    )


def test_the_console_nav_links_to_problems(crew: Any) -> None:
    page = _client(crew["member"]).get("/problems/").content.decode()
    assert 'href="/problems/"' in page
    page = _client(crew["requester"]).get("/portal/").content.decode()
    assert 'href="/problems/"' not in page


def test_list_filters(crew: Any) -> None:
    open_one = make_problem(crew=crew, title="Printer queue stalls")
    resolved = make_problem(crew=crew, title="Disk fills up", root_cause="Logs")
    services.problem_resolve(problem=resolved, by=crew["member"])
    client = _client(crew["member"])
    body = client.get("/problems/", {"status": "active"}).content.decode()
    assert open_one.number in body and resolved.number not in body
    body = client.get("/problems/", {"q": "disk"}).content.decode()
    assert resolved.number in body and open_one.number not in body
    body = client.get("/problems/", {"status": "nonsense"}).content.decode()
    assert open_one.number in body  # an unknown filter filters nothing


def test_open_a_problem_from_the_form(crew: Any) -> None:
    client = _client(crew["member"])
    response = client.post(
        "/problems/new/",
        {"title": "Mail delayed", "owner_team": crew["team"].pk, "description": "x"},
    )
    problem = Problem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/problems/{problem.number}/"
    assert problem.events.filter(kind=ProblemEvent.Kind.CREATED).exists()


def test_bad_input_is_a_400_and_writes_nothing(crew: Any) -> None:
    client = _client(crew["outsider"])
    response = client.post(
        "/problems/new/", {"title": "Mail delayed", "owner_team": crew["team"].pk}
    )
    assert response.status_code == 400
    assert "You are not in Network" in response.content.decode()
    response = client.post("/problems/new/", {"title": "", "owner_team": ""})
    assert response.status_code == 400
    assert Problem.objects.count() == 0


def test_requesters_cannot_open_one(crew: Any) -> None:
    response = _client(crew["requester"]).post(
        "/problems/new/", {"title": "x", "owner_team": crew["team"].pk}
    )
    assert response.status_code == 404
    assert Problem.objects.count() == 0


def test_edit_with_a_stale_version_is_a_409(crew: Any) -> None:
    problem = make_problem(crew=crew)
    client = _client(crew["member"])
    data = {"title": "New", "owner_team": crew["team"].pk, "version": 1}
    assert client.post(f"/problems/{problem.number}/edit/", data).status_code == 302
    data["title"] = "Newer"
    response = client.post(f"/problems/{problem.number}/edit/", data)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    problem.refresh_from_db()
    assert (problem.title, problem.version) == ("New", 2)


def test_an_outsider_cannot_edit_or_move_it(crew: Any) -> None:
    problem = make_problem(crew=crew, root_cause="Cause")
    client = _client(crew["outsider"])
    data = {"title": "Mine", "owner_team": crew["team"].pk, "version": 1}
    assert client.post(f"/problems/{problem.number}/edit/", data).status_code == 403
    response = client.post(f"/problems/{problem.number}/resolve/", {"version": 1})
    assert response.status_code == 403
    problem.refresh_from_db()
    assert (problem.title, problem.status) == (
        "VPN tunnel drops every hour",
        Problem.Status.OPEN,
    )


def test_status_actions_through_the_page(crew: Any) -> None:
    problem = make_problem(crew=crew, workaround="Reconnect", root_cause="Cert")
    client = _client(crew["member"])
    page = client.get(f"/problems/{problem.number}/").content.decode()
    assert "Mark as known error" in page
    url = f"/problems/{problem.number}/known-error/"
    assert client.post(url, {"version": 1}).status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.KNOWN_ERROR
    # The same click again (the page was stale): refused, said on the page.
    response = client.post(url, {"version": 1}, follow=True)
    assert "changed by someone else" in response.content.decode()
    assert client.post(url, {}).status_code == 400
    assert (
        client.post(f"/problems/{problem.number}/explode/", {"version": 2}).status_code
        == 404
    )
    problem.refresh_from_db()
    assert (problem.status, problem.version) == (Problem.Status.KNOWN_ERROR, 2)


def test_link_and_unlink_from_the_page(crew: Any) -> None:
    problem = make_problem(crew=crew)
    incident = make_incident()
    client = _client(crew["member"])
    client.post(f"/problems/{problem.number}/link/", {"incident": incident.number})
    incident.refresh_from_db()
    assert incident.problem == problem
    page = client.get(f"/problems/{problem.number}/").content.decode()
    assert incident.number in page and "Incident linked" in page
    detail = client.get(f"/console/{incident.number}/").content.decode()
    assert f"/problems/{problem.number}/" in detail
    response = client.post(
        f"/problems/{problem.number}/link/", {"incident": "INC-999999"}, follow=True
    )
    assert "No such incident" in response.content.decode()
    client.post(f"/problems/{problem.number}/unlink/{incident.number}/")
    incident.refresh_from_db()
    assert incident.problem is None
    assert incident.events.filter(kind=IncidentEvent.Kind.PROBLEM_UNLINKED).exists()


def _page_queries(client: Client, problem: Problem) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/problems/{problem.number}/", {"page": 2})
    assert response.status_code == 200
    return len(queries)


def test_the_problem_page_costs_the_same_with_many_incidents(crew: Any) -> None:
    problem = make_problem(crew=crew)
    client = _client(crew["member"])
    for _ in range(3):
        services.problem_link_incident(
            problem=problem, incident=make_incident(), by=crew["member"]
        )
    _page_queries(client, problem)  # the permissions, read once into the cache
    few = _page_queries(client, problem)
    for _ in range(120):
        services.problem_link_incident(
            problem=problem, incident=make_incident(), by=crew["member"]
        )
    many = _page_queries(client, problem)
    assert many == few
    body = client.get(f"/problems/{problem.number}/").content.decode()
    assert "Linked incidents (123)" in body
    assert "Page 1 of 3" in body


def test_the_admin_shows_problems_read_only(crew: Any, administrator: Any) -> None:
    problem = make_problem(crew=crew)
    client = _client(administrator)
    page = client.get(f"/admin/incidents/problem/{problem.pk}/change/")
    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()
    client.post(
        f"/admin/incidents/problem/{problem.pk}/change/",
        {"title": "Changed", "status": "closed"},
    )
    problem.refresh_from_db()
    assert (problem.title, problem.status) == (
        "VPN tunnel drops every hour",
        Problem.Status.OPEN,
    )
