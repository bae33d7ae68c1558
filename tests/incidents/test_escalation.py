"""An escalation always reaches a person: the receiving team's members and lead,
else its lead alone, else the incident managers; the page and the timeline say
who was told and why; an admin cannot build a chain into a team of nobody."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.test import Client

from incidents import services
from incidents.admin import TeamAdminForm
from incidents.demo import demo_seed
from incidents.models import Incident, IncidentEvent, Notification, Team
from incidents.roles import Role
from incidents.tasks import sla_sweep_task
from tests.factories import PASSWORD, make_team, make_user, signed_in
from tests.incidents.conftest import T0, incident_in, log_p1

pytestmark = pytest.mark.django_db

S = Incident.Status
K = IncidentEvent.Kind


def escalated_to(incident: Incident) -> list[str]:
    return sorted(
        Notification.objects.filter(
            incident=incident, event="escalated", channel="email"
        ).values_list("recipient", flat=True)
    )


def page_as(user: object, incident: Incident) -> str:
    return signed_in(user).get(f"/console/{incident.number}/").content.decode()


def test_the_receiving_teams_members_and_lead_are_told(org: SimpleNamespace) -> None:
    lead = make_user(role=Role.INCIDENT_MANAGER, username="lee", first_name="Lee")
    org.upper.lead = lead
    org.upper.save()
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="Needs a DBA")
    assert incident.assignee is None  # the team takes it
    event = incident.events.get(kind=K.ESCALATED)
    assert event.data["told"] == ["sam", "Lee"]
    assert event.data["told_why"] == "Systems's members and lead"
    assert escalated_to(incident) == sorted([org.upper_agent.email, lead.email])


def test_into_a_team_without_active_members_it_goes_to_the_lead(
    org: SimpleNamespace,
) -> None:
    org.upper_agent.is_active = False  # the only member left the company
    org.upper_agent.save()
    lead = make_user(role=Role.AGENT, first_name="Lee", last_name="Lead")
    org.upper.lead = lead
    org.upper.save()
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="up")
    assert (incident.team, incident.assignee) == (org.upper, lead)
    event = incident.events.get(kind=K.ESCALATED)
    assert event.data["told"] == ["Lee Lead"]
    assert "no active members: its lead was told" in event.data["told_why"]
    assert escalated_to(incident) == [lead.email]


def test_with_neither_members_nor_lead_the_incident_managers_are_told(
    org: SimpleNamespace,
) -> None:
    org.upper.members.clear()
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="up")
    assert incident.assignee is None
    event = incident.events.get(kind=K.ESCALATED)
    assert event.data["told"] == ["imani"]
    assert "the incident managers were told" in event.data["told_why"]
    assert escalated_to(incident) == [org.incident_manager.email]


def test_a_missed_target_escalating_into_an_empty_tier_reaches_the_lead(
    org: SimpleNamespace,
) -> None:
    org.upper.members.clear()
    lead = make_user(role=Role.AGENT, username="lee")
    org.upper.lead = lead
    org.upper.save()
    incident = log_p1(org)
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        sla_sweep_task()
    incident.refresh_from_db()
    assert (incident.team, incident.assignee) == (org.upper, lead)
    assert lead.email in escalated_to(incident)


def test_the_incident_page_says_who_was_told_and_why(org: SimpleNamespace) -> None:
    org.upper.members.clear()
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="up")
    page = page_as(org.agent, incident)
    told = "told imani · Systems has no active members and no lead"
    assert told in page
    assert "tier 1 → 2; told imani (Systems has no active members" in page


def test_assign_offers_the_team_first_then_everyone_who_may_take_it(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = signed_in(org.agent)
    page = client.get(f"/console/{incident.number}/assign/").content.decode()
    assign = page[page.index('id="assign-assignee"') :]
    assign = assign[: assign.index("</select>")]
    assert assign.index("alex · in the team") < assign.index("imani")
    assert assign.index("imani") < assign.index("sam")
    assert "rita" not in assign and "morgan" not in assign  # may not work incidents
    response = client.post(
        f"/console/{incident.number}/assign/",
        {"version": incident.version, "assignee": org.upper_agent.pk},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == org.upper_agent


def admin_form(team: Team | None = None, **data: object) -> TeamAdminForm:
    fields = {"name": "Desk", "tier": 1, "members": [], **data}
    return TeamAdminForm(data=fields, instance=team)


def test_admin_refuses_a_chain_into_an_empty_team_without_a_lead(db: object) -> None:
    empty = make_team(name="Nobody", tier=2)
    form = admin_form(next_tier=empty.pk)
    assert not form.is_valid()
    assert "Nobody has no active members and no lead" in form.errors["next_tier"][0]
    empty.lead = make_user(role=Role.AGENT)
    empty.save()
    assert admin_form(next_tier=empty.pk).is_valid()


def test_admin_refuses_emptying_a_team_others_escalate_into(
    org: SimpleNamespace,
) -> None:
    form = admin_form(org.upper, name="Systems", tier=2, members=[])
    assert not form.is_valid()
    assert "Service Desk escalate into this team" in form.non_field_errors()[0]
    keep = [org.upper_agent.pk]
    assert admin_form(org.upper, name="Systems", tier=2, members=keep).is_valid()


def test_the_admin_page_shows_the_form_error(org: SimpleNamespace) -> None:
    admin_user = make_user(role=Role.ADMIN, is_superuser=True)
    empty = make_team(name="Nobody", tier=3)
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/incidents/team/{org.upper.pk}/change/",
        {
            "name": "Systems",
            "tier": 2,
            "next_tier": empty.pk,
            "members": [org.upper_agent.pk],
            "email": "",
            "categories-TOTAL_FORMS": 0,
            "categories-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Nobody has no active members and no lead" in response.content.decode()
    org.upper.refresh_from_db()
    assert org.upper.next_tier is None


def test_the_demo_has_no_chain_into_a_team_that_reaches_nobody(db: object) -> None:
    demo_seed(password=PASSWORD)
    for team in Team.objects.filter(escalated_from__isnull=False).distinct():
        people, why = team.escalation_audience()
        assert people and "incident managers" not in why, team.name
