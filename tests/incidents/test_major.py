"""Major incidents from one screen: declared by an incident manager or by the
system on P1/P2; commander, communications lead, responders, bridge and
stakeholders each a service with a timeline entry; stakeholder updates emailed
to the list through the outbox; the header's facts; constant queries."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import services
from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent, MajorIncident, Notification
from incidents.roles import Role
from tests.factories import make_user, signed_in
from tests.incidents.conftest import T0, log_p1

pytestmark = pytest.mark.django_db

K = IncidentEvent.Kind


def p3(org: SimpleNamespace) -> Incident:
    return services.incident_log(
        by=org.agent,
        title="Slow VPN",
        source="agent",
        category=org.category,
        impact="medium",
        urgency="medium",
    )


def kinds(incident: Incident) -> list[str]:
    return list(incident.events.values_list("kind", flat=True))


def test_a_p1_or_p2_is_declared_by_the_system_at_once(org: SimpleNamespace) -> None:
    incident = log_p1(org)
    major = MajorIncident.objects.get(incident=incident)
    assert major.declared_by is None
    assert kinds(incident)[:2] == [K.LOGGED, K.MAJOR_DECLARED]
    low = p3(org)
    assert not MajorIncident.objects.filter(incident=low).exists()
    services.incident_update(incident=low, by=org.agent, impact="high", urgency="high")
    assert MajorIncident.objects.filter(incident=low, declared_by=None).exists()
    assert kinds(low).count(K.MAJOR_DECLARED) == 1


def test_an_incident_manager_declares_with_roles_and_bridge(
    org: SimpleNamespace,
) -> None:
    incident = p3(org)
    with pytest.raises(PermissionDenied):
        services.incident_declare_major(incident=incident, by=org.agent)
    major = services.incident_declare_major(
        incident=incident,
        by=org.incident_manager,
        commander=org.incident_manager,
        comms_lead=org.agent,
        bridge_url="https://meet.example.com/inc",
    )
    assert (major.commander, major.comms_lead) == (org.incident_manager, org.agent)
    assert major.bridge_url == "https://meet.example.com/inc"
    assert kinds(incident)[-3:] == [K.MAJOR_DECLARED, K.MAJOR_ROLES, K.MAJOR_BRIDGE]
    with pytest.raises(IncidentConflict, match="major incident already"):
        services.incident_declare_major(incident=incident, by=org.incident_manager)


def test_roles_bridge_and_stakeholders_are_each_on_the_timeline(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)
    manager = org.incident_manager
    with pytest.raises(ValidationError, match="may not work incidents"):
        services.incident_set_major_roles(
            incident=incident, by=manager, commander=org.requester
        )
    services.incident_set_major_roles(
        incident=incident,
        by=manager,
        commander=manager,
        responders=[org.agent, org.upper_agent],
    )
    roles = incident.events.filter(kind=K.MAJOR_ROLES).last()
    assert roles.data == {
        "commander": "imani",
        "comms_lead": None,
        "responders": ["alex", "sam"],
    }
    with pytest.raises(ValidationError, match="http"):
        services.incident_set_bridge(
            incident=incident, by=manager, bridge_url="javascript:alert(1)"
        )
    services.incident_set_bridge(
        incident=incident, by=manager, bridge_url="https://chat.example.com/c/1"
    )
    with pytest.raises(ValidationError, match="not an email address"):
        services.incident_set_stakeholders(
            incident=incident, by=manager, addresses=["nope"]
        )
    services.incident_set_stakeholders(
        incident=incident,
        by=manager,
        people=[org.manager],
        addresses=["CFO@example.com", "board@example.com"],
    )
    listed = incident.events.filter(kind=K.MAJOR_STAKEHOLDERS).get()
    assert listed.data == {
        "people": ["morgan"],
        "addresses": ["board@example.com", "cfo@example.com"],
    }
    with pytest.raises(PermissionDenied):
        services.incident_set_bridge(incident=incident, by=org.agent, bridge_url="")


def test_roles_on_an_incident_that_is_not_major_are_refused(
    org: SimpleNamespace,
) -> None:
    with pytest.raises(IncidentConflict, match="not a major incident"):
        services.incident_set_bridge(
            incident=p3(org), by=org.incident_manager, bridge_url=""
        )


def test_each_stakeholder_update_is_emailed_to_the_list(
    org: SimpleNamespace, mailoutbox: Any
) -> None:
    incident = log_p1(org)
    services.incident_set_stakeholders(
        incident=incident,
        by=org.incident_manager,
        people=[org.manager],
        addresses=["cfo@example.com"],
    )
    services.incident_post_update(
        incident=incident, by=org.agent, body="Failover to the second site."
    )
    sent = Notification.objects.filter(incident=incident, event="stakeholder_update")
    assert sorted(sent.values_list("recipient", flat=True)) == [
        "cfo@example.com",
        org.manager.email,
    ]
    assert all("Failover to the second site." in n.body for n in sent)
    # Not a major incident: an update is only logged.
    low = p3(org)
    services.incident_post_update(incident=low, by=org.agent, body="Looking")
    assert not Notification.objects.filter(incident=low, event="stakeholder_update")


def page_of(user: Any, incident: Incident) -> str:
    return signed_in(user).get(f"/console/{incident.number}/").content.decode()


def test_the_header_holds_what_a_responder_needs(org: SimpleNamespace) -> None:
    incident = log_p1(org, at=T0)
    services.incident_set_major_roles(
        incident=incident, by=org.incident_manager, commander=org.incident_manager
    )
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        html = page_of(org.agent, incident)
    start = html.index('class="page-head incident-head"')
    head = html[start : html.index("</header>", start)]
    assert "P1" in head and "New" in head and "Service Desk" in head
    assert 'class="commander">imani' in head
    assert '<dd class="sla-respond"><time' in head and "10 min" in head
    assert '<dd class="sla-resolve"><time' in head
    assert 'class="update-due"' in head  # due, not yet overdue
    assert 'href="#act-triage"' in head and ">Post update<" in head
    # Overdue: red, with how long.
    due = incident.next_update_due_at
    with time_machine.travel(due + timedelta(minutes=7), tick=False):
        head = page_of(org.agent, incident)
    assert 'class="update-due late"' in head
    assert "overdue by 7 min" in head


def test_the_page_keeps_responders_and_stakeholders_apart(
    org: SimpleNamespace,
) -> None:
    incident = log_p1(org)
    zed = make_user(role=Role.AGENT, username="zed", first_name="Zoe", last_name="Z")
    amy = make_user(role=Role.AGENT, username="amy")
    bob = make_user(role=Role.AGENT, username="bob", first_name="Bob")
    services.incident_set_major_roles(
        incident=incident,
        by=org.incident_manager,
        commander=org.incident_manager,
        responders=[zed, amy],
    )
    services.incident_set_stakeholders(
        incident=incident, by=org.incident_manager, people=[bob, zed], addresses=[]
    )
    html = page_of(org.incident_manager, incident)
    # Each list by username, a person by full name when there is one.
    assert "<dt>Responders</dt><dd>amy, Zoe Z</dd>" in html
    assert '<dd class="stakeholders">Bob, Zoe Z</dd>' in html
    # The roles form opens on the responders chosen, not the stakeholders.
    form = signed_in(org.incident_manager).get(
        f"/console/{incident.number}/major_roles/"
    )
    chosen = form.context["form"].initial["responders"]
    assert sorted(chosen) == sorted([zed.pk, amy.pk])


def test_an_incident_manager_declares_from_the_page(org: SimpleNamespace) -> None:
    incident = p3(org)
    client = signed_in(org.incident_manager)
    assert "Declare major incident" not in page_of(org.agent, incident)
    response = client.post(
        f"/console/{incident.number}/declare_major/",
        {
            "version": incident.version,
            "commander": org.incident_manager.pk,
            "bridge_url": "https://meet.example.com/x",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/console/{incident.number}/major_stakeholders/",
        {
            "version": Incident.objects.get(pk=incident.pk).version,
            "people": [org.manager.pk],
            "addresses": "cfo@example.com, board@example.com",
        },
    )
    assert response.status_code == 302
    html = page_of(org.incident_manager, incident)
    assert "morgan, board@example.com, cfo@example.com" in html
    bad = client.post(
        f"/console/{incident.number}/major_stakeholders/",
        {"version": Incident.objects.get(pk=incident.pk).version, "addresses": "x"},
    )
    assert bad.status_code == 400 and "not an email address" in bad.content.decode()
    # An agent may not.
    refused = signed_in(org.agent).post(
        f"/console/{incident.number}/major_bridge/",
        {"version": Incident.objects.get(pk=incident.pk).version, "bridge_url": ""},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("many", [False, True])
def test_the_major_incident_page_costs_constant_queries(
    org: SimpleNamespace, django_assert_num_queries: Any, many: bool
) -> None:
    incident = log_p1(org)
    people = [make_user(role=Role.AGENT) for _ in range(6 if many else 0)]
    services.incident_set_major_roles(
        incident=incident,
        by=org.incident_manager,
        commander=org.incident_manager,
        comms_lead=org.agent,
        responders=people,
    )
    services.incident_set_stakeholders(
        incident=incident,
        by=org.incident_manager,
        people=people,
        addresses=[f"s{n}@example.com" for n in range(5 if many else 0)],
    )
    client = signed_in(org.incident_manager)
    client.get(f"/console/{incident.number}/")  # the SLA policies' cache
    caches["fragments"].clear()  # the page is rendered again, not kept
    # The major-incident record is a query of its own, its two lists one more; the
    # forms' choices come when a form is opened.
    with django_assert_num_queries(12):
        assert client.get(f"/console/{incident.number}/").status_code == 200
    with django_assert_num_queries(3):  # kept, as nothing changed
        assert client.get(f"/console/{incident.number}/").status_code == 200


def test_the_major_view_sorts_by_update_due_and_shows_it(
    org: SimpleNamespace,
) -> None:
    from incidents import selectors

    first, second, third = (log_p1(org, at=T0 + timedelta(minutes=n)) for n in range(3))
    # The oldest one's update was just posted: its next one is due last.
    services.incident_post_update(
        incident=first, by=org.agent, body="x", now=T0 + timedelta(minutes=10)
    )
    low = p3(org)
    now = T0 + timedelta(minutes=12)
    order = [second, third, first]
    page = selectors.incident_queue(user=org.agent, filters={"view": "major"}, now=now)
    assert [row.pk for row in page.rows] == [i.pk for i in order]
    assert low.pk not in [row.pk for row in page.rows]
    # Paged by the same order, one row at a time.
    seen, cursor = [], None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(selectors, "QUEUE_PAGE_SIZE", 1)
        while True:
            one = selectors.incident_queue(
                user=org.agent, filters={"view": "major"}, cursor=cursor, now=now
            )
            seen += [row.pk for row in one.rows]
            if not (cursor := one.next_cursor):
                break
    assert seen == [i.pk for i in order]
    with time_machine.travel(now, tick=False):
        html = signed_in(org.agent).get("/console/", {"view": "major"}).content
    html = html.decode()
    assert '<th scope="col">Update due</th>' in html
    assert html.count('<td class="update-cell"><time') == 3
    later = second.next_update_due_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        html = signed_in(org.agent).get("/console/", {"view": "major"}).content
    assert (
        '<td class="update-cell"><strong class="late">overdue</strong>' in html.decode()
    )


@pytest.mark.parametrize("many", [False, True])
def test_the_major_forms_cost_constant_queries_when_opened(
    org: SimpleNamespace, django_assert_num_queries: Any, many: bool
) -> None:
    incident = log_p1(org)
    people = [make_user(role=Role.AGENT) for _ in range(6 if many else 0)]
    services.incident_set_stakeholders(
        incident=incident, by=org.incident_manager, people=people, addresses=[]
    )
    client = signed_in(org.incident_manager)
    url = f"/console/{incident.number}/major_stakeholders/"
    client.get(url, HTTP_HX_REQUEST="true")
    # The session's user, the incident, its major-incident record and its two
    # lists (one query), the services and the people to choose from.
    with django_assert_num_queries(6):
        answer = client.get(url, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert answer.content.decode().count("selected") >= len(people)
