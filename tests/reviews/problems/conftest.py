from __future__ import annotations

from typing import Any

import pytest

from incidents.models import Problem
from incidents.roles import Role
from reviews.problems import services
from reviews.problems.recurrence import proposals_changed
from tests.factories import make_team, make_user


@pytest.fixture(autouse=True)
def fresh_proposals() -> None:
    """The recurrence proposals live in the shared cache, which outlives each
    test's rolled-back transaction: start every test without them."""
    proposals_changed()


@pytest.fixture
def crew(db: Any) -> Any:
    """A team with an agent in it, an agent of another team, an incident manager,
    a manager and a requester."""
    team = make_team(name="Network")
    member = make_user(role=Role.AGENT, username="nina")
    team.members.add(member)
    outsider = make_user(role=Role.AGENT, username="otto")
    make_team(name="Desktop").members.add(outsider)
    return {
        "team": team,
        "member": member,
        "outsider": outsider,
        "incident_manager": make_user(role=Role.INCIDENT_MANAGER, username="ivy"),
        "manager": make_user(role=Role.MANAGER, username="max"),
        "requester": make_user(role=Role.REQUESTER, username="rae"),
    }


def make_problem(*, crew: Any, **overrides: Any) -> Problem:
    fields = {
        "by": crew["member"],
        "title": "VPN tunnel drops every hour",
        "owner_team": crew["team"],
        **overrides,
    }
    return services.problem_create(**fields)
