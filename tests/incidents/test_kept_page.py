"""The incident page kept whole by what it shows (incidents.console.page): every
change shows at the next load, and what belongs to a request or an instant is
never kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from incidents import services
from incidents.console import page as kept_page
from incidents.models import Alert, Incident, Problem
from incidents.roles import Role
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from incidents.services.attachments import attachments_check
from incidents.status import services as status
from itsm import fragments, pages
from tests.factories import make_service, make_user, signed_in
from tests.incidents.conftest import (
    T0,
    counted_renders,
    incident_in,
    log_p1,
    without_tokens,
)

pytestmark = pytest.mark.django_db
S = Incident.Status


def url(incident: Incident) -> str:
    return f"/console/{incident.number}/"


def shown(client: Client, incident: Incident) -> str:
    response = client.get(url(incident))
    assert response.status_code == 200
    return response.content.decode()


Change = Callable[[], Any]


def _note(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    return "Relay restarted", lambda: services.incident_add_note(
        incident=incident, by=org.agent, kind="work_note", body="Relay restarted"
    )


def _update(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    return "Mail flows again", lambda: services.incident_post_update(
        incident=incident, by=org.agent, body="Mail flows again"
    )


def _file(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    upload = SimpleUploadedFile("relay-trace.log", b"trace")
    return "relay-trace.log", lambda: services.incident_reply(
        incident=incident,
        by=org.agent,
        body="Trace attached",
        files=attachments_check([upload]),
    )


def _duplicate(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    twin = incident_in(S.INVESTIGATING, org)
    return f">{twin.number}</a>", lambda: services.incident_merge(
        incident=twin, into=incident, by=org.agent
    )


def _service(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    calendar = make_service(name="Calendar")
    return "Calendar", lambda: services.incident_update(
        incident=incident, by=org.agent, services=[calendar]
    )


def _resolve(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    return "Restarted the relay", lambda: services.incident_resolve(
        incident=incident,
        by=org.agent,
        resolution="Restarted the relay",
        resolution_kind="workaround",
        verification="Sent a test message",
    )


def _row_written_directly(
    org: SimpleNamespace, incident: Incident
) -> tuple[str, Change]:
    # Not every write goes through save(): the sweep claims its work with
    # update(), which moves neither the version nor updated_at.
    return "<dt>Known error</dt>", lambda: Incident.objects.filter(
        pk=incident.pk
    ).update(known_error=True)


def _renamed_team(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    org.team.name = "Messaging Desk"
    return "Messaging Desk", org.team.save


def _commander(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    # A P2: declared a major incident by the system when it was triaged.
    cora = make_user(role=Role.AGENT, first_name="Cora", last_name="Mander")
    return "Cora Mander", lambda: services.incident_set_major_roles(
        incident=incident, by=org.incident_manager, commander=cora
    )


def _status_entry(org: SimpleNamespace, incident: Incident) -> tuple[str, Change]:
    return "nothing is public yet", lambda: status.status_entry_propose(
        incident=incident
    )


CHANGES: dict[str, Callable[[SimpleNamespace, Incident], tuple[str, Change]]] = {
    "note": _note,
    "stakeholder update": _update,
    "attachment": _file,
    "duplicate merged in": _duplicate,
    "services edited": _service,
    "resolved": _resolve,
    "row written with update()": _row_written_directly,
    "team renamed": _renamed_team,
    "commander set": _commander,
    "status page entry": _status_entry,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_shows_at_the_next_load(org: SimpleNamespace, change: str) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    expected, make_change = CHANGES[change](org, incident)
    client = signed_in(org.incident_manager)
    assert expected not in shown(client, incident)  # and kept
    make_change()
    assert expected in shown(client, incident)


def test_a_declared_major_incident_shows_at_the_next_load(
    org: SimpleNamespace,
) -> None:
    minor = services.incident_log(
        by=org.agent, title="Mouse", source="agent", impact="low", urgency="low"
    )
    client = signed_in(org.incident_manager)
    assert "Declare major incident" in shown(client, minor)
    assert "Declare major incident" not in shown(signed_in(org.agent), minor)
    services.incident_declare_major(incident=minor, by=org.incident_manager)
    html = shown(client, minor)
    assert "Declare major incident" not in html
    assert '<span class="tag major">Major</span>' in html


def test_an_alert_repeat_shows_at_the_next_load(org: SimpleNamespace) -> None:
    integration, _ = integration_create(name="prom", kind="generic")
    signal = AlertSignal(dedup_key="disk", status="firing", title="Disk full")
    alert_ingest(integration=integration, signals=[signal], payload={})
    incident = Alert.objects.get(dedup_key="disk").incident
    client = signed_in(org.agent)
    assert "repeated" not in shown(client, incident)
    alert_ingest(integration=integration, signals=[signal], payload={})
    assert "repeated 1 time" in shown(client, incident)
    alert_ingest(integration=integration, signals=[signal], payload={})
    assert "repeated 2 times" in shown(client, incident)


def test_the_problem_is_read_at_each_load(org: SimpleNamespace) -> None:
    problem = Problem.objects.create(title="Relay leaks memory")
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_link_problem(incident=incident, by=org.agent, problem=problem)
    client = signed_in(org.agent)
    assert "(known error)" not in shown(client, incident)
    # The problem's own row changes; the incident's does not.
    Problem.objects.filter(pk=problem.pk).update(is_known_error=True)
    assert "(known error)" in shown(client, incident)


def test_the_countdowns_are_read_at_each_load(org: SimpleNamespace) -> None:
    incident = log_p1(org, at=T0)
    client = signed_in(org.agent)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        early = shown(client, incident)
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        later = shown(client, incident)
    respond = r'<dd class="sla-respond">(.*?)</dd>'
    assert re.search(respond, early).group(1) != re.search(respond, later).group(1)
    sla = r'<h2 id="sla-h">SLA</h2>(.*?)</section>'
    assert re.search(sla, early, re.S).group(1) != re.search(sla, later, re.S).group(1)


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_kept_page_carries_each_readers_own_csrf_token(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    first = Client(enforce_csrf_checks=True)
    first.force_login(org.agent)
    shown(first, incident)
    colleague = make_user(role=Role.AGENT)
    org.team.members.add(colleague)
    second = Client(enforce_csrf_checks=True)
    second.force_login(colleague)
    html = shown(second, incident)  # the page the first reader's load kept
    assert kept_page.marker("csrf").split(":")[0] not in html
    # Each reader's drafts under their own key, though the page is shared.
    assert f"itsm:draft:{colleague.pk}:{incident.number}:" in html
    assert f"itsm:draft:{org.agent.pk}:" not in html
    posted = second.post(
        f"{url(incident)}note/",
        {
            "kind": "work_note",
            "body": "Seen",
            "version": incident.version,
            "csrfmiddlewaretoken": _token(html),
        },
    )
    assert posted.status_code == 302
    assert "Seen" in shown(second, incident)


def test_the_layout_kept_around_the_page_is_the_ordinary_render(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    kept = shown(client, incident)
    # With messages waiting, the layout is rendered with the request.
    monkeypatch.setattr(pages, "messages_waiting", lambda request: True)
    assert without_tokens(shown(client, incident)) == without_tokens(kept)


def test_the_blank_forms_are_shared_and_carry_each_incidents_version(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = counted_renders(monkeypatch, fragments)
    client = signed_in(org.agent)
    first, second = incident_in(S.INVESTIGATING, org), incident_in(S.TRIAGED, org)
    services.incident_add_note(
        incident=second, by=org.agent, kind="work_note", body="A newer version"
    )
    second.refresh_from_db()
    assert first.version != second.version
    for incident in (first, second):
        html = shown(client, incident)
        versions = re.findall(r'name="version" value="([^"]+)"', html)
        assert versions and set(versions) == {str(incident.version)}
    # The note and update forms' fields were rendered for the first page only.
    assert renders.count("incidents/partials/form_fields.html") == 2
    posted = client.post(
        f"{url(second)}note/",
        {"kind": "work_note", "body": "Seen", "version": second.version},
    )
    assert posted.status_code == 302


def test_a_failed_form_comes_back_as_typed_on_a_kept_page(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    client = signed_in(org.agent)
    shown(client, incident)
    failed = client.post(
        f"{url(incident)}resolve/",
        {"version": incident.version, "resolution": "Typed before the refusal"},
    )
    assert failed.status_code == 400
    html = failed.content.decode()
    assert "Not sent: " in html and "Typed before the refusal" in html
    assert "Typed before the refusal" not in shown(client, incident)


def test_readers_who_may_do_the_same_share_one_copy(
    org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = counted_renders(monkeypatch, kept_page)
    incident = incident_in(S.INVESTIGATING, org)
    colleague = make_user(role=Role.AGENT)
    org.team.members.add(colleague)
    for reader in (org.agent, colleague, org.agent):
        shown(signed_in(reader), incident)
    assert renders == [kept_page.TEMPLATE]
    shown(signed_in(org.incident_manager), incident)  # may do more: its own copy
    assert renders == [kept_page.TEMPLATE] * 2
