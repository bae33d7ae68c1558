"""Bodies built to break a JSON reader, sent to every operation of the API that
reads one: each is refused with a 400 and a JSON answer, and nothing is written."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from incidents.models import (
    AlertDelivery,
    Incident,
    IncidentEvent,
    IncidentNote,
    Integration,
    Problem,
    ProblemEvent,
    StakeholderUpdate,
)
from incidents.services.alerts import integration_create
from incidents.services.tokens import api_token_create
from kb.models import Article, ArticleUse, ArticleVersion
from kb.services import article_create
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db

INTAKE_KINDS = {
    "/api/v1/alerts/": Integration.Kind.GENERIC,
    "/api/v1/alerts/alertmanager/": Integration.Kind.ALERTMANAGER,
    "/api/v1/alerts/grafana/": Integration.Kind.GRAFANA,
    "/api/v1/alerts/pagerduty/": Integration.Kind.PAGERDUTY,
}


def _operations_with_a_body() -> list[tuple[str, str]]:
    """Every (method, path) of the API's schema that takes a request body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    )


OPERATIONS = _operations_with_a_body()


def _nested(depth: int) -> str:
    return '{"title": ' + "[" * depth + "]" * depth + "}"


HOSTILE = {
    # The depth that used to overflow the interpreter's stack while parsing.
    "nested-1000": _nested(1000),
    # Within the stack, but past any shape the API knows.
    "nested-100": _nested(100),
    "nested-objects": '{"a": ' * 200 + "1" + "}" * 200,
    "nan": '{"title": "x", "dedup_key": "k", "labels": {"x": NaN}, "n": NaN}',
    "infinity": '{"title": "x", "dedup_key": "k", "n": Infinity}',
    "minus-infinity": '{"title": "x", "dedup_key": "k", "n": -Infinity}',
    "1e400": '{"title": "x", "dedup_key": "k", "n": 1e400}',
    "-1e400-in-a-list": '{"title": "x", "dedup_key": "k", "n": [1, -1e400]}',
}


@pytest.fixture
def callers(org: SimpleNamespace) -> SimpleNamespace:
    """A person who may do most things, an incident and a draft article for them
    to act on, and one integration token per kind."""
    org.team.members.add(org.incident_manager)
    _, person = api_token_create(user=org.incident_manager, name="tests")
    integrations = {
        kind: integration_create(name=kind, kind=kind)[1]
        for kind in Integration.Kind.values
    }
    article = article_create(
        by=org.incident_manager, title="Restart the mail relay", owner_team=org.team
    )
    problem = Problem.objects.create(
        title="Mail relay leaks memory", owner_team=org.team
    )
    return SimpleNamespace(
        person=person,
        integrations=integrations,
        numbers={
            "/api/v1/incidents/": incident_in(
                Incident.Status.INVESTIGATING, org
            ).number,
            "/api/v1/kb/": article.number,
            "/api/v1/problems/": problem.number,
        },
    )


def _written() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Incident,
            IncidentEvent,
            IncidentNote,
            StakeholderUpdate,
            AlertDelivery,
            Article,
            ArticleVersion,
            ArticleUse,
            Problem,
            ProblemEvent,
        )
    )


def test_the_schema_lists_the_operations_that_read_a_body() -> None:
    paths = {path for _, path in OPERATIONS}
    assert set(INTAKE_KINDS) <= paths
    assert {"/api/v1/incidents/", "/api/v1/incidents/{number}/notes/"} <= paths
    assert len(OPERATIONS) >= 17


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_body_is_400_json_and_writes_nothing(
    callers: SimpleNamespace, method: str, path: str, body: str
) -> None:
    kind = INTAKE_KINDS.get(path)
    token = callers.integrations[kind] if kind else callers.person
    before = _written()
    number = next(
        (n for prefix, n in callers.numbers.items() if path.startswith(prefix)), ""
    )
    response = Client().generic(
        method,
        path.replace("{number}", number),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer.get("detail") or answer.get("errors")
    assert _written() == before


def test_a_deep_but_reasonable_body_is_still_read(callers: SimpleNamespace) -> None:
    """PagerDuty's custom details are free-form: a few levels of nesting are fine."""
    details: Any = {"disk": "full"}
    for _ in range(10):
        details = {"nested": details}
    response = Client().post(
        "/api/v1/alerts/pagerduty/",
        {
            "event_action": "trigger",
            "dedup_key": "deep",
            "payload": {
                "summary": "Disk full",
                "source": "db-1",
                "severity": "critical",
                "custom_details": details,
            },
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {callers.integrations['pagerduty']}",
    )
    assert response.status_code == 202
