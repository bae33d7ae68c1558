"""The status page in the agent console: the incident page's card, the list of
proposals, an entry's page with its forms; who may do what; refusals come back
with what was typed."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import MaintenanceWindow, StatusEntry, StatusMessage
from incidents.status import services as status
from tests.status.conftest import major, post_update, publish, say

pytestmark = pytest.mark.django_db


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _proposal(desk: SimpleNamespace) -> StatusEntry:
    incident = major(desk)
    status.status_incident_sync(incident_id=incident.pk)
    return StatusEntry.objects.get(incident=incident)


def _publish_data(desk: SimpleNamespace, **changes: str) -> dict[str, str]:
    return {
        "title": "Email is unavailable",
        f"component-{desk.email.pk}": "major_outage",
        f"component-{desk.web.pk}": "",
        "message": "We are looking into it.",
        **changes,
    }


def test_the_incident_page_shows_the_proposal_to_managers_and_agents(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = _proposal(desk)
    url = f"/console/{entry.incident.number}/"
    html = _as(client, desk.manager).get(url).content.decode()
    card = html.split('id="status-page-h"')[1].split("</section>")[0]
    assert "Proposed" in card and "Review and publish" in card
    assert f"/console/status/{entry.public_id}/" in card
    html = _as(Client(), desk.agent).get(url).content.decode()
    assert "See the proposal" in html


def test_without_an_entry_only_those_who_may_publish_see_the_card(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk, priority=3)
    url = f"/console/{incident.number}/"
    assert 'id="status-page-h"' not in _as(client, desk.agent).get(url).content.decode()
    html = _as(Client(), desk.manager).get(url).content.decode()
    assert "Prepare a public entry" in html


def test_the_console_lists_proposals_and_open_entries(
    client: Client, desk: SimpleNamespace
) -> None:
    proposal = _proposal(desk)
    published = publish(desk, major(desk, title="Other"), title="Website trouble")
    html = _as(client, desk.agent).get("/console/status/").content.decode()
    proposals = html.split('id="proposals-h"')[1].split("</section>")[0]
    assert proposal.incident.number in proposals and "P1" in proposals
    assert "Website trouble" in html.split('id="open-h"')[1].split("</section>")[0]
    assert published.incident.number in html


def test_a_manager_publishes_from_the_entry_page(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = _proposal(desk)
    _as(client, desk.manager)
    page = client.get(f"/console/status/{entry.public_id}/").content.decode()
    assert 'name="title"' in page and "Nothing about this incident is public" in page
    # The incident's public services are suggested, in major outage for a P1.
    assert f'name="component-{desk.email.pk}"' in page
    response = client.post(
        f"/console/status/{entry.public_id}/publish/", _publish_data(desk)
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.title) == ("published", "Email is unavailable")
    assert [i.service for i in entry.impacts.all()] == [desk.email]


def test_an_agent_may_read_but_not_publish(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = _proposal(desk)
    _as(client, desk.agent)
    page = client.get(f"/console/status/{entry.public_id}/").content.decode()
    assert "Only incident managers publish." in page and 'name="title"' not in page
    response = client.post(
        f"/console/status/{entry.public_id}/publish/", _publish_data(desk)
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.status == "proposed"


def test_bad_input_comes_back_with_the_text_and_the_reason(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = _proposal(desk)
    data = _publish_data(desk, title="Email is unavailable")
    data[f"component-{desk.email.pk}"] = ""  # no component chosen
    response = _as(client, desk.manager).post(
        f"/console/status/{entry.public_id}/publish/", data
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose at least one affected component." in html
    assert "We are looking into it." in html
    entry.refresh_from_db()
    assert entry.status == "proposed"


def test_posting_stages_and_resolving_then_more_is_a_conflict(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = publish(desk, major(desk))
    _as(client, desk.manager)
    url = f"/console/status/{entry.public_id}/post/"
    for stage in ["identified", "resolved"]:
        response = client.post(
            url,
            {
                "stage": stage,
                "body": f"Now {stage}.",
                f"component-{desk.email.pk}": "partial_outage",
            },
        )
        assert response.status_code == 302, response.content.decode()
    entry.refresh_from_db()
    assert entry.stage == "resolved" and entry.resolved_at is not None
    late = client.post(url, {"stage": "monitoring", "body": "Wait."})
    assert late.status_code == 409
    assert "resolved" in late.content.decode() and "Wait." in late.content.decode()


def test_editing_a_message_from_its_page(client: Client, desk: SimpleNamespace) -> None:
    entry = publish(desk, major(desk))
    message = entry.messages.get()
    response = _as(client, desk.manager).post(
        f"/console/status/{entry.public_id}/messages/{message.public_id}/",
        {"body": "Mail is delayed for some people."},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.body == "Mail is delayed for some people." and message.edited_at
    page = client.get(f"/console/status/{entry.public_id}/").content.decode()
    versions = page.split('id="versions-h"')[1]
    assert "We are looking into problems with email." in versions
    assert "Mail is delayed for some people." in versions


def test_dismissing_a_proposal(client: Client, desk: SimpleNamespace) -> None:
    entry = _proposal(desk)
    response = _as(client, desk.manager).post(
        f"/console/status/{entry.public_id}/dismiss/"
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "dismissed"


def test_preparing_an_entry_for_any_incident(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk, priority=3)
    response = _as(client, desk.manager).post(
        f"/console/status/incident/{incident.number}/"
    )
    entry = StatusEntry.objects.get(incident=incident)
    assert response["Location"] == f"/console/status/{entry.public_id}/"
    assert (
        _as(Client(), desk.agent)
        .post(f"/console/status/incident/{incident.number}/")
        .status_code
        == 403
    )


def test_planning_maintenance(client: Client, desk: SimpleNamespace) -> None:
    starts = (timezone.localtime() + timedelta(days=2)).replace(microsecond=0)
    data = {
        "services": [desk.email.pk, desk.internal.pk],
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Patch the relays",
        "public_title": "Email maintenance",
        "public_message": "Mail may be delayed.",
    }
    assert (
        _as(Client(), desk.agent)
        .post("/console/status/maintenance/new/", data)
        .status_code
        == 403
    )
    _as(client, desk.manager)
    assert client.get("/console/status/maintenance/new/").status_code == 200
    bad = client.post(
        "/console/status/maintenance/new/", {**data, "public_message": ""}
    )
    assert bad.status_code == 400
    assert client.post("/console/status/maintenance/new/", data).status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.created_by == desk.manager
    assert set(window.services.all()) == {desk.email, desk.internal}
    response = client.post(f"/console/status/maintenance/{window.public_id}/cancel/")
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.cancelled_at is not None


def test_anonymous_visitors_go_to_the_login_page(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = _proposal(desk)
    for url in ["/console/status/", f"/console/status/{entry.public_id}/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_messages_of_public_updates_are_marked_on_the_entry_page(
    client: Client, desk: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    incident = major(desk)
    entry = publish(desk, incident)
    with django_capture_on_commit_callbacks(execute=True):
        post_update(desk, incident, "Failover started.")
    assert StatusMessage.objects.filter(source_update__isnull=False).count() == 1
    say(desk, entry, "identified", "Found it.")
    page = _as(client, desk.manager).get(f"/console/status/{entry.public_id}/")
    assert "from a public stakeholder update" in page.content.decode()
