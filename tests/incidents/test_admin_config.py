"""The admin's configuration editors: the priority matrix as a 3x3 grid, an
integration's endpoint and a working example request, its severity map as a
table."""

from __future__ import annotations

import json
import re
import shlex
from html import unescape
from typing import Any

import pytest
from django.test import Client

from incidents.models import Integration, Priority, PriorityMatrixCell, priority_for
from incidents.roles import Role
from incidents.services.alerts import integration_create
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(make_user(role=Role.ADMIN))
    return client


def _grid(**changes: int) -> dict[str, str]:
    cells = {
        f"cell-{c.impact}-{c.urgency}": str(c.priority)
        for c in PriorityMatrixCell.objects.all()
    }
    return {**cells, **{k.replace("_", "-"): str(v) for k, v in changes.items()}}


def test_the_matrix_is_a_3x3_grid_saved_at_once(admin_client: Client) -> None:
    page = admin_client.get("/admin/incidents/prioritymatrixcell/").content.decode()
    assert page.count("<select") == 9
    assert re.search(r"<th scope=\"row\">High</th>", page)
    assert 'name="cell-low-high"' in page
    response = admin_client.post(
        "/admin/incidents/prioritymatrixcell/", _grid(cell_medium_high=1)
    )
    assert response.status_code == 302
    assert priority_for("medium", "high") == Priority.P1
    assert priority_for("high", "high") == Priority.P1


def test_a_bad_cell_saves_nothing(admin_client: Client) -> None:
    before = list(PriorityMatrixCell.objects.values_list("priority", flat=True))
    form = _grid(cell_low_low=1)
    form["cell-high-high"] = "9"
    response = admin_client.post("/admin/incidents/prioritymatrixcell/", form)
    assert response.status_code == 200 and b"Nothing was saved" in response.content
    assert list(PriorityMatrixCell.objects.values_list("priority", flat=True)) == before


def test_agents_cannot_open_the_matrix() -> None:
    client = Client()
    client.force_login(make_user(role=Role.AGENT))
    response = client.post("/admin/incidents/prioritymatrixcell/", _grid())
    assert response.status_code in (302, 403)
    assert priority_for("low", "low") == Priority.P4


@pytest.mark.parametrize("kind", Integration.Kind.values)
def test_an_integration_page_shows_an_example_request_that_works(
    admin_client: Client, kind: str, settings: Any
) -> None:
    settings.SITE_URL = "https://itsm.example.com"
    integration, token = integration_create(name=f"{kind} tool", kind=kind)
    page = admin_client.get(
        f"/admin/incidents/integration/{integration.pk}/change/"
    ).content.decode()
    path = {
        "generic": "/api/v1/alerts/",
        "alertmanager": "/api/v1/alerts/alertmanager/",
        "grafana": "/api/v1/alerts/grafana/",
        "pagerduty": "/api/v1/alerts/pagerduty/",
    }[kind]
    assert f"POST https://itsm.example.com{path}" in page
    assert 'data-copy="integration-example"' in page and "js/copy.js" in page
    example = unescape(
        re.search(r'<pre id="integration-example">(.*?)</pre>', page, re.S)[1]
    )
    words = shlex.split(example.replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", f"https://itsm.example.com{path}"]
    body = words[words.index("--data-binary") + 1].replace("<token>", token)
    # The example is a request the endpoint takes, as it stands.
    response = Client().post(
        path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (200, 201, 202), response.content
    assert json.loads(body)


def test_the_severity_map_is_edited_as_a_table(admin_client: Client) -> None:
    integration, _ = integration_create(name="Prometheus", kind="alertmanager")
    url = f"/admin/incidents/integration/{integration.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert (
        page.count('name="severity_map_severity"') == len(integration.severity_map) + 3
    )
    form = {
        "name": "Prometheus",
        "kind": "alertmanager",
        "is_active": "on",
        "default_impact": "medium",
        "recovery": "all_recovered",
        "grouping": "alert",
        "group_within_minutes": "30",
        "rate_limit_per_minute": "60000",
        "severity_map_severity": ["Critical", "page", ""],
        "severity_map_urgency": ["high", "medium", ""],
    }
    assert admin_client.post(url, form).status_code == 302
    integration.refresh_from_db()
    assert integration.severity_map == {"critical": "high", "page": "medium"}
    bad = admin_client.post(
        url,
        {
            **form,
            "severity_map_severity": ["x", "x"],
            "severity_map_urgency": ["high", "low"],
        },
    )
    assert bad.status_code == 200 and "is listed twice" in bad.content.decode()
    integration.refresh_from_db()
    assert integration.severity_map == {"critical": "high", "page": "medium"}
