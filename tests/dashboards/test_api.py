"""The dashboards over the API: the same figures, the same scope."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.test import APIClient

from incidents.services.tokens import api_token_create
from tests.dashboards.test_views import WEEK

pytestmark = pytest.mark.django_db


def api_for(user: Any) -> APIClient:
    _, token = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_summary_carries_every_table(refreshed: SimpleNamespace) -> None:
    response = api_for(refreshed.people.manager).get(f"/api/v1/dashboards/{WEEK}")
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["first"] == "2026-03-02"
    assert body["period"]["last"] == "2026-03-08"
    assert body["as_of"].startswith("2026-03-04T12:00:00")
    headline = {row["figure"]: row["value"] for row in body["headline"]["rows"]}
    assert headline["opened"] == 6 and headline["breaching_now"] == 2
    assert [t["name"] for t in body["tables"]][:2] == [
        "compliance_priority",
        "compliance_team",
    ]


def test_one_table_as_rows_of_objects(refreshed: SimpleNamespace) -> None:
    client = api_for(refreshed.people.manager)
    response = client.get(f"/api/v1/dashboards/tables/times/{WEEK}&priority=1")
    assert response.status_code == 200
    assert response.json()["rows"] == [
        {
            "priority": 1,
            "calendar": "24x7: real time",
            "acknowledged": 1,
            "mtta_mean_seconds": 1200,
            "mtta_p50_max_seconds": 1200,
            "mtta_p90_max_seconds": 1200,
            "resolved": 1,
            "mttr_mean_seconds": 16200,
            "mttr_p50_max_seconds": 21600,
            "mttr_p90_max_seconds": 21600,
        }
    ]
    assert client.get("/api/v1/dashboards/tables/nonsense/").status_code == 404


def test_an_agent_reads_their_teams_and_a_requester_nothing(
    refreshed: SimpleNamespace,
) -> None:
    outsider = api_for(refreshed.people.outsider).get(f"/api/v1/dashboards/{WEEK}")
    rows = {r["figure"]: r["value"] for r in outsider.json()["headline"]["rows"]}
    assert rows["opened"] == 0
    requester = api_for(refreshed.people.requester)
    assert requester.get("/api/v1/dashboards/").status_code == 404
    assert APIClient().get("/api/v1/dashboards/").status_code in (401, 403)


def test_a_bad_period_is_400_with_the_reason(people: SimpleNamespace) -> None:
    client = api_for(people.manager)
    response = client.get("/api/v1/dashboards/?start=2026-03-08&end=2026-03-02")
    assert response.status_code == 400
    assert "end on or after" in str(response.json())
