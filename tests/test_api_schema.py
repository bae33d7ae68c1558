"""Every API operation, driven by schemathesis from our own OpenAPI schema: no
input it generates may cause a server error or an answer that contradicts the
schema."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from incidents.models import Integration
from incidents.roles import Role
from incidents.services.alerts import integration_create
from incidents.services.tokens import api_token_create
from itsm.wsgi import application
from tests.factories import make_category, make_incident, make_team, make_user

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

KIND_BY_PATH = {
    "/api/v1/alerts/alertmanager/": Integration.Kind.ALERTMANAGER,
    "/api/v1/alerts/grafana/": Integration.Kind.GRAFANA,
    "/api/v1/alerts/pagerduty/": Integration.Kind.PAGERDUTY,
    "/api/v1/alerts/": Integration.Kind.GENERIC,
}


@pytest.fixture
def keep_test_connection() -> Any:
    """Requests here bypass Django's test client, which is what normally stops the
    end of a request from closing the test's database connection (and with it the
    test's transaction); do the same."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db: Any, keep_test_connection: Any) -> SimpleNamespace:
    """A token for an incident manager (who may do most things) and one per kind of
    integration, with an incident to act on."""
    user = make_user(role=Role.INCIDENT_MANAGER)
    team = make_team(name="Desk")
    team.members.add(user)
    make_incident(category=make_category(team=team), requester=user)
    _, person = api_token_create(user=user)
    integrations = {
        kind: integration_create(name=kind, kind=kind)[1]
        for kind in Integration.Kind.values
    }
    return SimpleNamespace(person=person, integrations=integrations)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_answers_as_its_schema_says(case: Any, tokens: SimpleNamespace) -> None:
    kind = KIND_BY_PATH.get(case.path)
    token = tokens.integrations[kind] if kind else tokens.person
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            content_type_conformance,
        ],
    )
