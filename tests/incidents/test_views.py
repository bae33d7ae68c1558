from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import make_category, make_team, make_user

pytestmark = pytest.mark.django_db


def _teams_with_members(count: int) -> None:
    for _ in range(count):
        team = make_team()
        make_category(team=team)
        team.members.add(make_user(), make_user())


@pytest.mark.parametrize("teams", [2, 12])
def test_dashboards_cost_constant_queries(
    manager: Any, client: Client, django_assert_num_queries: Any, teams: int
) -> None:
    _teams_with_members(teams)
    client.force_login(manager)
    # session, user, user and group permissions, teams, categories, members
    with django_assert_num_queries(7):
        response = client.get("/dashboards/")
    assert response.status_code == 200
    assert response.content.count(b"<tr>") == teams + 1
