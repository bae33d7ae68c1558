from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from incidents.models import Incident
from incidents.selectors import incident_list, incidents_visible_to
from incidents.services import incident_assign
from tests.factories import make_incident, make_team, make_user
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db


def _incidents(org: SimpleNamespace, count: int) -> None:
    for n in range(count):
        incident = make_incident(
            title=f"Incident {n}",
            category=org.category,
            services=[org.service],
            requester=org.requester,
        )
        incident_assign(incident=incident, by=None, assignee=org.agent)


@pytest.mark.parametrize("count", [5, 50])
def test_incident_list_costs_constant_queries(
    org: SimpleNamespace, django_assert_num_queries: Any, count: int
) -> None:
    _incidents(org, count)
    user = make_user(role="Agent")  # fresh: no cached permissions
    # user permissions, group permissions, incidents with their relations, services
    with django_assert_num_queries(4):
        rows = [
            (
                i.number,
                i.category.name,
                i.team.name,
                i.assignee.username,
                i.requester.username,
                [s.name for s in i.services.all()],
            )
            for i in incident_list(user=user)
        ]
    assert len(rows) == count
    assert rows[0][1:] == ("Software", "Service Desk", "alex", "rita", ["Email"])


def test_requesters_see_only_their_own_incidents(org: SimpleNamespace) -> None:
    mine = incident_in(Incident.Status.NEW, org)
    make_incident(title="Someone else's", requester=org.other_requester)
    make_incident(title="An alert")
    assert list(incidents_visible_to(org.requester)) == [mine]


@pytest.mark.parametrize("who", ["agent", "incident_manager", "manager"])
def test_staff_see_every_incident(org: SimpleNamespace, who: str) -> None:
    incident_in(Incident.Status.NEW, org)
    make_incident(title="An alert")
    assert incidents_visible_to(getattr(org, who)).count() == 2


def test_people_without_a_role_see_nothing(org: SimpleNamespace) -> None:
    make_incident(title="An alert")
    assert not incidents_visible_to(make_user()).exists()


def test_list_filters(org: SimpleNamespace) -> None:
    other = make_team(name="Other")
    incident_in(Incident.Status.TRIAGED, org)
    make_incident(title="Elsewhere")
    rows = incident_list(user=org.agent, filters={"team": org.team})
    assert [i.team for i in rows] == [org.team]
    assert not incident_list(user=org.agent, filters={"team": other}).exists()
