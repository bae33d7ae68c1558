"""The incidents API: tokens, reads through the one authorisation rule, writes
through the services, transitions as their own endpoints."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from incidents import services
from incidents.models import ApiToken, Incident
from incidents.services.tokens import api_token_create
from tests.incidents.conftest import T0, incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status


class Api:
    """A client that speaks JSON with a person's bearer token."""

    def __init__(self, user: Any) -> None:
        _, self.token = api_token_create(user=user, name="tests")
        self.client = Client()

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, **self._headers())

    def post(self, path: str, body: dict | None = None) -> Any:
        return self.client.post(
            path, body or {}, content_type="application/json", **self._headers()
        )

    def patch(self, path: str, body: dict) -> Any:
        return self.client.patch(
            path, body, content_type="application/json", **self._headers()
        )


@pytest.fixture
def api(org: SimpleNamespace) -> Any:
    return lambda who: Api(getattr(org, who))


def url(incident: Incident, tail: str = "") -> str:
    return f"/api/v1/incidents/{incident.number}/{tail}"


# ---------------------------------------------------------------- tokens
def test_create_api_token_prints_the_token_last(org: SimpleNamespace) -> None:
    out = StringIO()
    call_command("create_api_token", "alex", "--name", "script", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert token.startswith("itsm_")
    stored = ApiToken.objects.get()
    assert stored.token_hash != token and token.endswith(stored.token_hint)
    response = Client().get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_create_integration_prints_the_token_last(org: SimpleNamespace) -> None:
    out = StringIO()
    call_command(
        "create_integration", "Prometheus", "--kind", "alertmanager", stdout=out
    )
    token = out.getvalue().strip().splitlines()[-1]
    assert token.startswith("itsm_")
    assert "/api/v1/alerts/alertmanager/" in out.getvalue()


def test_unknown_token_is_401(db: Any) -> None:
    response = Client().get("/api/v1/incidents/", HTTP_AUTHORIZATION="Bearer itsm_nope")
    assert response.status_code == 401


def test_anonymous_is_401_or_403(db: Any) -> None:
    assert Client().get("/api/v1/incidents/").status_code in (401, 403)


# ---------------------------------------------------------------- reading
def test_requester_lists_and_opens_only_their_own(
    org: SimpleNamespace, api: Any
) -> None:
    mine = incident_in(S.NEW, org)
    theirs = services.incident_log(
        by=org.agent,
        title="Otto's printer",
        source=Incident.Source.AGENT,
        requester=org.other_requester,
    )
    client = api("requester")
    numbers = [
        row["number"] for row in client.get("/api/v1/incidents/").json()["results"]
    ]
    assert numbers == [mine.number]
    assert client.get(url(mine)).status_code == 200
    assert client.get(url(theirs)).status_code == 404
    assert client.get(url(theirs, "notes/")).status_code == 404
    assert (
        client.get("/api/v1/incidents/", search=theirs.number).json()["results"] == []
    )


def test_list_filters_and_search(org: SimpleNamespace, api: Any) -> None:
    triaged = incident_in(S.TRIAGED, org)
    new = incident_in(S.NEW, org)
    client = api("agent")
    by_state = client.get("/api/v1/incidents/", state="triaged").json()["results"]
    assert [r["number"] for r in by_state] == [triaged.number]
    # The portal report names no category: the service desk team has it too.
    by_team = client.get("/api/v1/incidents/", team=org.team.pk).json()["results"]
    assert [r["number"] for r in by_team] == [new.number, triaged.number]
    unassigned = client.get("/api/v1/incidents/", assignee="none").json()["results"]
    assert {r["number"] for r in unassigned} == {triaged.number, new.number}
    found = client.get("/api/v1/incidents/", search=new.number).json()["results"]
    assert [r["number"] for r in found] == [new.number]
    found = client.get("/api/v1/incidents/", search="mail is").json()["results"]
    assert len(found) == 2


@pytest.mark.parametrize(
    "params",
    [{"state": "sleeping"}, {"priority": "9"}, {"assignee": "bob"}, {"team": "x"}],
)
def test_bad_filter_is_400(org: SimpleNamespace, api: Any, params: dict) -> None:
    assert api("agent").get("/api/v1/incidents/", **params).status_code == 400


def test_cursor_pagination_walks_every_row_once(org: SimpleNamespace, api: Any) -> None:
    made = {incident_in(S.NEW, org).number for _ in range(5)}
    client, seen, path = api("agent"), [], "/api/v1/incidents/?page_size=2"
    for _ in range(5):
        page = client.get(path).json()
        seen += [row["number"] for row in page["results"]]
        if not page["next"]:
            break
        path = page["next"].replace("http://testserver", "")
    assert sorted(seen) == sorted(made) and len(seen) == 5


def test_list_costs_constant_queries(
    org: SimpleNamespace, api: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(8):
        incident_in(S.TRIAGED, org)
    client = api("agent")
    # token, user and group permissions, incidents, services
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/incidents/").status_code == 200


def test_detail_says_what_the_caller_may_do(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.RESOLVED, org)
    agent_view = api("agent").get(url(incident)).json()
    requester_view = api("requester").get(url(incident)).json()
    assert agent_view["allowed_transitions"] == ["reopen"]
    assert sorted(requester_view["allowed_transitions"]) == ["confirm", "reopen"]
    assert agent_view["phase"] == "Resolution and recovery"
    assert agent_view["priority"] == "P2"


# ---------------------------------------------------------------- writing
def test_agent_creates_a_routed_incident(org: SimpleNamespace, api: Any) -> None:
    response = api("agent").post(
        "/api/v1/incidents/",
        {
            "title": "Payroll export fails",
            "category": org.category.pk,
            "impact": "high",
            "urgency": "high",
            "services": [org.service.pk],
            "requester": org.requester.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["priority"], body["team"]["name"], body["source"]) == (
        "P1",
        "Service Desk",
        "agent",
    )
    assert body["requester"]["username"] == "rita"


def test_requester_creates_their_own_portal_incident(
    org: SimpleNamespace, api: Any
) -> None:
    response = api("requester").post(
        "/api/v1/incidents/",
        {"title": "VPN drops", "requester": org.other_requester.pk},
    )
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert (incident.requester, incident.source) == (org.requester, "portal")


def test_create_with_bad_input_is_400_and_writes_nothing(
    org: SimpleNamespace, api: Any
) -> None:
    response = api("agent").post("/api/v1/incidents/", {"title": "", "impact": "huge"})
    assert response.status_code == 400
    assert {"title", "impact"} <= set(response.json())
    assert not Incident.objects.exists()


def test_patch_with_a_stale_version_is_409(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = api("agent")
    seen = client.get(url(incident)).json()["version"]
    assert (
        client.patch(url(incident), {"title": "First", "version": seen}).status_code
        == 200
    )
    response = client.patch(url(incident), {"title": "Second", "version": seen})
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    incident.refresh_from_db()
    assert incident.title == "First"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("transitions/cancel/", {"reason": "Logged twice."}),
        ("transitions/wait_for_requester/", {"question": "Since when?"}),
        ("escalate/", {"reason": "Needs the systems team."}),
    ],
)
def test_every_write_that_sends_a_stale_version_is_409(
    org: SimpleNamespace, api: Any, path: str, body: dict
) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = api("agent")
    seen = client.get(url(incident)).json()["version"]
    assert client.patch(url(incident), {"title": "Theirs"}).status_code == 200
    response = client.post(url(incident, path), {**body, "version": seen})
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    incident.refresh_from_db()
    assert (incident.status, incident.tier) == (S.TRIAGED, 1)


def test_transition_endpoint_runs_the_service(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.NEW, org)
    response = api("agent").post(
        url(incident, "transitions/triage/"),
        {"category": org.category.pk, "impact": "low", "urgency": "low"},
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["priority"]) == ("triaged", "P4")


def test_transition_not_allowed_now_is_409_with_the_reason(
    org: SimpleNamespace, api: Any
) -> None:
    incident = incident_in(S.NEW, org)
    response = api("agent").post(
        url(incident, "transitions/resolve/"),
        {"resolution_kind": "workaround", "resolution": "x", "verification": "y"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Cannot resolve {incident.number}: it is new.",
        "code": "invalid_transition",
    }


def test_guard_failure_is_400_with_fields(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = api("agent").post(
        url(incident, "transitions/resolve/"),
        {"resolution_kind": "workaround", "resolution": "x", "verification": "  "},
    )
    assert response.status_code == 400
    assert "verification" in response.json()


def test_requester_cannot_resolve(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = api("requester").post(
        url(incident, "transitions/resolve/"),
        {"resolution_kind": "workaround", "resolution": "x", "verification": "y"},
    )
    assert response.status_code == 403


def test_requester_confirms_their_fix(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.RESOLVED, org)
    response = api("requester").post(url(incident, "transitions/confirm/"))
    assert response.status_code == 200
    assert response.json()["status"] == "closed"


def test_incident_manager_cannot_confirm_for_a_requester(
    org: SimpleNamespace, api: Any
) -> None:
    incident = incident_in(S.RESOLVED, org)
    manager = api("incident_manager")
    assert "confirm" not in manager.get(url(incident)).json()["allowed_transitions"]
    response = manager.post(url(incident, "transitions/confirm/"))
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED


def test_incident_manager_confirms_an_incident_without_requester(
    org: SimpleNamespace, api: Any
) -> None:
    incident = incident_in(S.RESOLVED, org, with_requester=False)
    response = api("incident_manager").post(url(incident, "transitions/confirm/"))
    assert response.status_code == 200
    assert response.json()["status"] == "closed"


def test_nobody_closes_by_hand(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.RESOLVED, org)
    assert (
        api("incident_manager").post(url(incident, "transitions/close/")).status_code
        == 403
    )
    assert api("agent").post(url(incident, "transitions/fly/")).status_code == 404


def test_merge_by_number(org: SimpleNamespace, api: Any) -> None:
    survivor = incident_in(S.INVESTIGATING, org)
    duplicate = incident_in(S.NEW, org)
    response = api("agent").post(
        url(duplicate, "transitions/merge/"), {"into": survivor.number}
    )
    assert response.status_code == 200
    assert response.json()["merged_into"] == survivor.number


def test_assign_and_escalate(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = api("agent")
    response = client.post(url(incident, "assign/"), {"assignee": org.agent.pk})
    assert response.json()["assignee"]["username"] == "alex"
    response = client.post(url(incident, "escalate/"), {"reason": "Needs tier 2"})
    assert (response.json()["tier"], response.json()["assignee"]) == (2, None)


# ---------------------------------------------------------------- conversation
def test_requester_never_sees_work_notes(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    agent = api("agent")
    agent.post(
        url(incident, "notes/"), {"kind": "work_note", "body": "Suspect the relay"}
    )
    agent.post(url(incident, "notes/"), {"kind": "reply", "body": "We are on it"})
    requester = api("requester")
    bodies = [n["body"] for n in requester.get(url(incident, "notes/")).json()]
    assert bodies == ["We are on it"]
    response = requester.post(
        url(incident, "notes/"), {"kind": "work_note", "body": "hi"}
    )
    assert response.status_code == 403
    assert requester.get(url(incident, "timeline/")).status_code == 403
    assert len(agent.get(url(incident, "timeline/")).json()) >= 5


def test_requester_sees_public_updates_only(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    agent = api("agent")
    agent.post(url(incident, "updates/"), {"body": "Internal: vendor called"})
    agent.post(url(incident, "updates/"), {"body": "Mail is slow", "is_public": True})
    assert [
        u["body"] for u in api("requester").get(url(incident, "updates/")).json()
    ] == ["Mail is slow"]
    assert len(agent.get(url(incident, "updates/")).json()) == 2


def test_session_api_write_needs_csrf(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.agent)
    response = client.post(
        url(incident, "notes/"),
        {"kind": "reply", "body": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not incident.notes.exists()


# ---------------------------------------------------------------- schema and docs
def test_schema_and_docs_are_served_without_a_cdn(db: Any) -> None:
    client = Client()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/alerts/pagerduty/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_detail_shows_the_sla_clocks_with_explanations(
    org: SimpleNamespace, api: Any
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        sla = api("agent").get(url(incident)).json()["sla"]
    assert [c["clock"] for c in sla] == ["response", "resolution"]
    resolution = sla[1]
    assert resolution["running"] is True
    assert resolution["target_seconds"] == 8 * 3600  # P2
    assert resolution["explanation"] == (
        "resolution due Mon 2 Mar 2026, 17:00 UTC because: 1 hour used of 8 hours"
    )


@pytest.mark.parametrize(
    "params",
    [
        {"team": str(2**70)},
        {"search": "INC-" + "9" * 30},
        {"cursor": "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ=="},  # p=9999... (too large)
    ],
)
def test_numbers_beyond_64_bits_are_answered_not_crashed(
    org: SimpleNamespace, api: Any, params: dict
) -> None:
    response = api("agent").get("/api/v1/incidents/", **params)
    assert response.status_code in (200, 400, 404)


def test_related_id_beyond_64_bits_is_a_400(org: SimpleNamespace, api: Any) -> None:
    incident = incident_in(S.NEW, org)
    response = api("agent").post(
        url(incident, "transitions/triage/"),
        {"category": 2**70, "impact": "low", "urgency": "low"},
    )
    assert response.status_code == 400
    assert "category" in response.json()
