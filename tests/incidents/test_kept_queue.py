"""The queue kept whole by what it prints (itsm.pages): the kept page is the page
the ordinary render makes, every change shows at the next load, and what belongs
to the reader (their name, their CSRF token, their messages) is never shared."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.test import Client

from incidents import services
from incidents.models import Incident
from incidents.roles import Role
from itsm import pages
from tests.factories import make_user, signed_in
from tests.incidents.conftest import counted_renders, incident_in, without_tokens

pytestmark = pytest.mark.django_db
S = Incident.Status


def queue(client: Client, query: str = "") -> str:
    response = client.get(f"/console/{query}")
    assert response.status_code == 200
    return response.content.decode()


QUERIES = [
    "",
    "?view=open",
    "?view=open&q=mail",
    "?view=mine&q=no-such-words",  # no hits here: says how many elsewhere
    "?view=open&priority=9",  # a choice that is not offered: the form's error
    "?view=open&sort=priority&state=triaged",
    "?view=open&figure=breached&since=2026-01-01T00:00:00Z",
    "?view=open&after=999999",
]


def test_kept_pages_are_the_ordinary_render(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        incident_in(S.TRIAGED, org)
    client = signed_in(org.agent)
    # One after the other, each rendered without the request and kept: a page
    # kept for one query string is never served for another.
    kept = {query: queue(client, query) for query in QUERIES}
    # A request with messages waiting is rendered the ordinary way, with the
    # request: each page must be the same.
    monkeypatch.setattr(pages, "messages_waiting", lambda request: True)
    for query, html in kept.items():
        assert without_tokens(queue(client, query)) == without_tokens(html), query


def test_each_reader_sees_their_own_name_and_token(org: SimpleNamespace) -> None:
    incident_in(S.TRIAGED, org)
    other = make_user(role=Role.AGENT, username="robin", first_name="Robin")
    org.team.members.add(other)
    alex = Client(enforce_csrf_checks=True)
    alex.force_login(org.agent)
    robin = Client(enforce_csrf_checks=True)
    robin.force_login(other)
    first, second = queue(alex), queue(robin)
    assert ">alex</a>" in first and "Robin" not in first
    assert ">Robin</a>" in second and ">alex</a>" not in second
    # Each page's token is its reader's own: a form sent with it is accepted.
    token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', second).group(1)
    response = robin.post(
        "/console/bulk-assign/",
        {"csrfmiddlewaretoken": token, "assignee": other.pk, "next": "/console/"},
    )
    assert response.status_code == 302


def test_a_change_shows_at_the_next_load(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = signed_in(org.agent)
    assert incident.title in queue(client)
    services.incident_update(incident=incident, by=org.agent, title="Printer jam")
    assert "Printer jam" in queue(client)
    services.incident_assign(incident=incident, by=org.agent, assignee=org.agent)
    row = re.search(rf"{incident.number}.*?</tr>", queue(client), re.S).group(0)
    assert "<td>alex</td>" in row


def test_the_older_page_link_follows_the_rows(org: SimpleNamespace) -> None:
    client = signed_in(org.agent)
    for _ in range(3):
        incident_in(S.TRIAGED, org)
    assert "Older incidents" not in queue(client)
    for _ in range(50):
        incident_in(S.TRIAGED, org)
    assert "Older incidents" in queue(client)


def test_a_message_is_shown_once_then_the_page_is_kept_again(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.TRIAGED, org)
    client = signed_in(org.agent)
    queue(client)  # kept
    response = client.post(
        "/console/bulk-assign/",
        {"incident": [incident.number], "assignee": org.agent.pk, "next": "/console/"},
        follow=True,
    )
    assert f"Assigned to alex: {incident.number}." in response.content.decode()
    assert "Assigned to alex" not in queue(client)


def test_readers_with_the_same_facts_share_one_render(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_in(S.TRIAGED, org)
    twin = make_user(role=Role.AGENT, username="alex2", first_name="Alex")
    org.agent.first_name = "Alex"
    org.agent.save()
    org.team.members.add(twin)
    renders = counted_renders(monkeypatch, pages)
    first = queue(signed_in(org.agent))
    second = queue(signed_in(twin))
    assert renders == ["incidents/incident_list.html"]
    assert without_tokens(first) == without_tokens(second)
