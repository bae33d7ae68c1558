"""The knowledge-base API: the same visibility and search as the pages, writes
through the services, each transition its own endpoint, clear 4xx answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incidents.models import IncidentEvent
from incidents.roles import Role
from incidents.services import incident_log
from kb.models import BODY_MAX_BYTES, Article
from tests.factories import make_user
from tests.incidents.test_api_incidents import Api
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db


def _patch(api: Api, path: str, body: dict) -> Any:
    return api.client.patch(
        path, json.dumps(body), content_type="application/json", **api._headers()
    )


def test_create_then_read_a_draft(desk: Any) -> None:
    team, agent, _ = desk
    api = Api(agent)
    response = api.post(
        "/api/v1/kb/articles/",
        {"title": "Outlook crashes", "body": "Safe mode.", "owner_team": team.pk},
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert response.json()["status"] == "draft"
    assert api.get(f"/api/v1/kb/articles/{number}/").json()["body"] == "Safe mode."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "Big", "body": "x" * (BODY_MAX_BYTES + 1)}, "body"),
        ({"title": "x", "kind": "poem"}, "kind"),
    ],
)
def test_bad_input_is_400_with_the_field(desk: Any, body: dict, field: str) -> None:
    team, agent, _ = desk
    response = Api(agent).post("/api/v1/kb/articles/", {"owner_team": team.pk, **body})
    assert response.status_code == 400
    assert field in response.json()
    assert not Article.objects.exists()


def test_publish_needs_the_permission_and_retired_is_409(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent)
    path = f"/api/v1/kb/articles/{article.number}"
    assert Api(agent).post(f"{path}/publish/").status_code == 403
    lead_api = Api(lead)
    assert lead_api.post(f"{path}/publish/").json()["status"] == "published"
    assert lead_api.post(f"{path}/retire/").json()["status"] == "retired"
    response = lead_api.post(f"{path}/publish/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_stale_update_is_409_and_changes_nothing(desk: Any) -> None:
    team, agent, _ = desk
    article = make_article(team=team, by=agent, body="first")
    api = Api(agent)
    path = f"/api/v1/kb/articles/{article.number}/"
    assert _patch(api, path, {"body": "second", "revision": 1}).status_code == 200
    response = _patch(api, path, {"body": "third", "revision": 1})
    assert response.status_code == 409
    assert Article.objects.get(pk=article.pk).body == "second"


def test_versions_list_and_detail(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, body="v1", publish_by=lead)
    api = Api(agent)
    path = f"/api/v1/kb/articles/{article.number}/versions/"
    assert [v["number"] for v in api.get(path).json()] == [1]
    assert api.get(f"{path}1/").json()["body"] == "v1"
    assert api.get(f"{path}2/").status_code == 404


def test_search_uses_the_same_visibility(desk: Any) -> None:
    team, agent, lead = desk
    public = make_article(
        team=team, by=agent, publish_by=lead, title="VPN drops", audience="public"
    )
    make_article(
        team=team, by=agent, publish_by=lead, title="VPN runbook", audience="internal"
    )
    requester = Api(make_user(role=Role.REQUESTER))
    found = requester.get("/api/v1/kb/search/", q="vpn").json()
    assert [hit["article"]["number"] for hit in found["results"]] == [public.number]
    assert "<mark>VPN</mark>" in found["results"][0]["title_html"]
    staff = Api(agent).get("/api/v1/kb/search/", q="vnp").json()
    assert staff["corrected"] == "vpn" and len(staff["results"]) == 2
    listed = requester.get("/api/v1/kb/articles/").json()["results"]
    assert [a["number"] for a in listed] == [public.number]


def test_requester_gets_404_for_an_internal_article(desk: Any) -> None:
    team, agent, lead = desk
    internal = make_article(team=team, by=agent, publish_by=lead)
    api = Api(make_user(role=Role.REQUESTER))
    assert api.get(f"/api/v1/kb/articles/{internal.number}/").status_code == 404


def test_applied_to_incident(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, publish_by=lead)
    incident = incident_log(by=agent, title="x", source="agent")
    api = Api(agent)
    path = f"/api/v1/kb/articles/{article.number}/uses/"
    response = api.post(path, {"incident": incident.number})
    assert response.status_code == 201
    assert response.json()["kind"] == "applied"
    assert incident.events.filter(kind=IncidentEvent.Kind.ARTICLE_APPLIED).exists()
    assert api.post(path, {"incident": "INC-999999"}).status_code == 404
