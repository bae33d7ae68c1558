"""A published entry moves through the public stages with a message each,
independent of the incident's lifecycle; its words stay editable, and every
published version is kept."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from incidents.exceptions import IncidentConflict
from incidents.models import ComponentState, StatusEntry, StatusImpact, StatusVersion
from incidents.models.timeline import AppendOnlyError
from incidents.status import services as status
from incidents.status.selectors import status_page_compute
from tests.status.conftest import major, publish, resolve, say

pytestmark = pytest.mark.django_db

Stage = StatusEntry.Stage
MAJOR, PARTIAL, DEGRADED = (
    ComponentState.MAJOR,
    ComponentState.PARTIAL,
    ComponentState.DEGRADED,
)


def test_the_stage_flow_investigating_identified_monitoring_resolved(
    client: Client, desk: SimpleNamespace
) -> None:
    t0 = timezone.now() - timedelta(hours=2)
    incident = major(desk, at=t0 - timedelta(minutes=10))
    entry = publish(desk, incident, at=t0)
    steps = [
        (Stage.IDENTIFIED, "A full disk on a mail relay.", {desk.email: PARTIAL}),
        (Stage.MONITORING, "Mail flows again; watching.", {desk.email: DEGRADED}),
        (Stage.RESOLVED, "All mail delivered.", None),
    ]
    for n, (stage, body, states) in enumerate(steps, start=1):
        say(desk, entry, stage, body, states=states, at=t0 + timedelta(minutes=20 * n))
        entry.refresh_from_db()
        assert entry.stage == stage
    assert entry.monitoring_at == t0 + timedelta(minutes=40)
    assert entry.resolved_at == t0 + timedelta(minutes=60)
    assert entry.impact == StatusEntry.Impact.CRITICAL  # the worst it was
    spans = list(StatusImpact.objects.values_list("state", "start_at", "end_at"))
    assert spans == [
        (MAJOR, incident.detected_at, t0 + timedelta(minutes=20)),
        (PARTIAL, t0 + timedelta(minutes=20), t0 + timedelta(minutes=40)),
        (DEGRADED, t0 + timedelta(minutes=40), t0 + timedelta(minutes=60)),
    ]
    [shown] = client.get("/api/v2/incidents.json").json()["incidents"]
    assert [u["status"] for u in shown["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert shown["status"] == "resolved"
    assert client.get("/api/v2/incidents/unresolved.json").json()["incidents"] == []
    summary = client.get("/api/v2/summary.json").json()
    assert {c["name"]: c["status"] for c in summary["components"]}["Email"] == (
        "operational"
    )


def test_stages_may_go_back_before_resolution(desk: SimpleNamespace) -> None:
    entry = publish(desk, major(desk))
    say(desk, entry, Stage.MONITORING, "Looks better.")
    say(
        desk, entry, Stage.INVESTIGATING, "It failed again.", states={desk.email: MAJOR}
    )
    entry.refresh_from_db()
    assert entry.stage == Stage.INVESTIGATING


def test_a_message_may_keep_the_stage_and_change_components(
    desk: SimpleNamespace,
) -> None:
    entry = publish(desk, major(desk))
    say(
        desk,
        entry,
        Stage.INVESTIGATING,
        "The website is slow too.",
        states={desk.email: MAJOR, desk.web: DEGRADED},
    )
    open_states = dict(
        StatusImpact.objects.filter(end_at=None).values_list("service__name", "state")
    )
    assert open_states == {"Email": MAJOR, "Website": DEGRADED}
    # Email's span goes on: the same state is not cut in two.
    assert StatusImpact.objects.filter(service=desk.email).count() == 1


def test_resolved_is_the_last_stage(desk: SimpleNamespace) -> None:
    entry = publish(desk, major(desk))
    say(desk, entry, Stage.RESOLVED, "Fixed.")
    with pytest.raises(IncidentConflict):
        say(desk, entry, Stage.MONITORING, "Wait.")
    assert entry.messages.count() == 2


def test_a_proposal_takes_no_messages(desk: SimpleNamespace) -> None:
    incident = major(desk)
    entry = status.status_entry_propose(incident=incident)
    with pytest.raises(IncidentConflict):
        say(desk, entry, Stage.IDENTIFIED, "Found it.")


@pytest.mark.parametrize(("stage", "body"), [("fixed", "Done."), ("identified", " ")])
def test_a_bad_stage_or_an_empty_message_is_refused(
    desk: SimpleNamespace, stage: str, body: str
) -> None:
    entry = publish(desk, major(desk))
    with pytest.raises(ValidationError):
        say(desk, entry, stage, body)
    entry.refresh_from_db()
    assert entry.stage == Stage.INVESTIGATING and entry.messages.count() == 1


def test_an_agent_may_not_post_public_messages(desk: SimpleNamespace) -> None:
    entry = publish(desk, major(desk))
    with pytest.raises(PermissionDenied):
        status.status_entry_post(
            entry=entry, by=desk.agent, stage=Stage.IDENTIFIED, body="Found it."
        )


def test_the_stages_do_not_follow_the_incident_lifecycle(
    desk: SimpleNamespace,
) -> None:
    incident = major(desk)
    entry = publish(desk, incident)
    resolve(desk, incident)
    status.status_incident_sync(incident_id=incident.pk)
    entry.refresh_from_db()
    assert entry.stage == Stage.INVESTIGATING and entry.resolved_at is None
    [shown] = status_page_compute(now=timezone.now())["current"]
    assert shown["stage"] == "investigating"


def test_edits_show_as_updated_and_every_version_is_kept(
    client: Client, desk: SimpleNamespace
) -> None:
    entry = publish(desk, major(desk), title="Email down")
    message = entry.messages.get()
    status.status_entry_edit_title(entry=entry, by=desk.manager, title="Email is slow")
    status.status_message_edit(
        message=message, by=desk.manager, body="Some mail is delayed."
    )
    versions = list(StatusVersion.objects.values_list("text", flat=True))
    assert versions == [
        "Email down",
        "We are looking into problems with email.",
        "Email is slow",
        "Some mail is delayed.",
    ]
    html = client.get("/status").content.decode()
    assert "Email is slow" in html and "Some mail is delayed." in html
    assert "Email down" not in html
    assert html.count('class="edited"') == 2  # the title and the message
    [update] = client.get("/api/v2/incidents.json").json()["incidents"][0][
        "incident_updates"
    ]
    assert update["updated_at"] > update["created_at"]


def test_editing_to_the_same_words_keeps_no_new_version(
    desk: SimpleNamespace,
) -> None:
    entry = publish(desk, major(desk), title="Email down")
    status.status_entry_edit_title(entry=entry, by=desk.manager, title=" Email down ")
    assert StatusVersion.objects.count() == 2
    entry.refresh_from_db()
    assert entry.title_edited_at is None


def test_versions_cannot_be_rewritten(desk: SimpleNamespace) -> None:
    publish(desk, major(desk))
    with pytest.raises(AppendOnlyError):
        StatusVersion.objects.update(text="rewritten")
