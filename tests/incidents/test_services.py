"""The incident services: what each one checks and what it writes."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from incidents import services
from incidents.exceptions import IncidentConflict
from incidents.models import (
    Impact,
    Incident,
    IncidentEvent,
    IncidentNote,
    LifecyclePolicy,
    Priority,
    PriorityMatrixCell,
    Problem,
    Urgency,
)
from tests.factories import make_category, make_team, make_user
from tests.incidents.conftest import T0, incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status
K = IncidentEvent.Kind


def kinds(incident: Incident) -> list[str]:
    return list(incident.events.values_list("kind", flat=True))


# ---------------------------------------------------------------- priority matrix
@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", Priority.P1),
        ("high", "medium", Priority.P2),
        ("medium", "high", Priority.P2),
        ("high", "low", Priority.P3),
        ("medium", "medium", Priority.P3),
        ("low", "high", Priority.P3),
        ("medium", "low", Priority.P4),
        ("low", "medium", Priority.P4),
        ("low", "low", Priority.P4),
    ],
)
def test_default_matrix_gives_the_priority(
    org: SimpleNamespace, impact: str, urgency: str, priority: int
) -> None:
    incident = services.incident_log(
        by=org.agent, title="x", source="agent", impact=impact, urgency=urgency
    )
    assert incident.priority == priority
    assert PriorityMatrixCell.objects.count() == 9


def test_admin_edit_of_the_matrix_changes_new_priorities(
    org: SimpleNamespace, admin_client: Client
) -> None:
    cell = PriorityMatrixCell.objects.get(impact="low", urgency="high")
    url = f"/admin/incidents/prioritymatrixcell/{cell.pk}/change/"
    response = admin_client.post(url, {"priority": Priority.P2})
    assert response.status_code == 302
    incident = services.incident_log(
        by=org.agent, title="x", source="agent", impact="low", urgency="high"
    )
    assert incident.priority == Priority.P2


def test_matrix_cells_cannot_be_added_or_deleted_in_admin(admin_client: Client) -> None:
    cell = PriorityMatrixCell.objects.first()
    assert (
        admin_client.get("/admin/incidents/prioritymatrixcell/add/").status_code == 403
    )
    delete = f"/admin/incidents/prioritymatrixcell/{cell.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert PriorityMatrixCell.objects.count() == 9


def test_changing_urgency_recomputes_priority_on_the_timeline(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.TRIAGED, org)  # high impact, medium urgency: P2
    services.incident_update(incident=incident, by=org.agent, urgency=Urgency.HIGH)
    assert incident.priority == Priority.P1
    change = incident.events.filter(kind=K.FIELD_CHANGED, data__field="priority").last()
    assert (change.data["old"], change.data["new"]) == (2, 1)


# ---------------------------------------------------------------- logging
def test_log_routes_by_category_and_records_the_logging(org: SimpleNamespace) -> None:
    incident = services.incident_log(
        by=org.agent,
        title="  Printer on fire  ",
        source="agent",
        category=org.category,
        impact="high",
        urgency="high",
        services=[org.service],
        now=T0,
    )
    assert incident.number == f"INC-{incident.pk:06d}"
    assert Incident.objects.by_number(incident.number) == incident
    assert Incident.objects.by_number(f"inc-{incident.pk}") == incident
    assert incident.title == "Printer on fire"
    assert (incident.team, incident.tier, incident.status) == (org.team, 1, S.NEW)
    assert incident.logged_at == incident.detected_at == T0
    assert list(incident.services.all()) == [org.service]
    logged = incident.events.first()
    assert (logged.kind, logged.actor, logged.at) == (K.LOGGED, org.agent, T0)


def test_requester_logs_only_their_own_portal_incident(org: SimpleNamespace) -> None:
    incident = services.incident_log(
        by=org.requester, title="VPN", source="portal", requester=org.requester
    )
    assert incident.requester == org.requester
    with pytest.raises(PermissionDenied):
        services.incident_log(
            by=org.requester,
            title="VPN",
            source="portal",
            requester=org.other_requester,
        )
    with pytest.raises(PermissionDenied):
        services.incident_log(
            by=org.requester, title="VPN", source="agent", requester=org.requester
        )
    assert Incident.objects.count() == 1


def test_log_refuses_detection_in_the_future(org: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.incident_log(
            by=org.agent,
            title="x",
            source="agent",
            detected_at=T0 + timedelta(minutes=5),
            now=T0,
        )
    assert "detected_at" in excinfo.value.message_dict
    assert not Incident.objects.exists()


def test_log_refuses_an_empty_title(org: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.incident_log(by=org.agent, title="   ", source="agent")
    assert "title" in excinfo.value.message_dict
    assert not Incident.objects.exists()


# ---------------------------------------------------------------- guards
def test_triage_names_every_missing_field_and_writes_nothing(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.NEW, org)
    before = kinds(incident)
    with pytest.raises(ValidationError) as excinfo:
        services.incident_triage(
            incident=incident, by=org.agent, category=None, impact="", urgency="high"
        )
    assert set(excinfo.value.message_dict) == {"category", "impact", "team"}
    assert kinds(incident) == before
    assert incident.urgency == ""  # the caller's copy is rolled back too


def test_resolve_needs_a_fix_and_its_verification(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with pytest.raises(ValidationError) as excinfo:
        services.incident_resolve(
            incident=incident,
            by=org.agent,
            resolution_kind="workaround",
            resolution="Rebooted.",
            verification="  ",
        )
    assert set(excinfo.value.message_dict) == {"verification"}
    incident.refresh_from_db()
    assert incident.status == S.INVESTIGATING


def test_start_work_takes_the_incident_and_acknowledges_it(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.TRIAGED, org)
    services.incident_start_work(
        incident=incident, by=org.agent, now=T0 + timedelta(hours=1)
    )
    assert incident.assignee == org.agent
    assert incident.acknowledged_at == T0 + timedelta(hours=1)
    assert kinds(incident)[-3:] == [K.FIELD_CHANGED, K.ASSIGNED, K.TRANSITION]


def test_start_work_refuses_an_agent_outside_the_team(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    with pytest.raises(ValidationError, match="not in Service Desk"):
        services.incident_start_work(incident=incident, by=org.upper_agent)
    assert incident.assignee is None


# ---------------------------------------------------------------- permissions
@pytest.mark.parametrize("who", ["requester", "manager"])
def test_only_agents_triage(org: SimpleNamespace, who: str) -> None:
    incident = incident_in(S.NEW, org)
    with pytest.raises(PermissionDenied):
        services.incident_triage(
            incident=incident,
            by=getattr(org, who),
            category=org.category,
            impact="high",
            urgency="high",
        )


def test_only_the_requester_confirms_their_own_ticket(org: SimpleNamespace) -> None:
    incident = incident_in(S.RESOLVED, org)
    superuser = make_user(is_superuser=True)
    for other in (org.agent, org.other_requester, org.incident_manager, superuser):
        with pytest.raises(PermissionDenied):
            services.incident_confirm(incident=incident, by=other)
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED
    services.incident_confirm(incident=incident, by=org.requester)
    assert incident.status == S.CLOSED


def test_a_business_lead_confirms_an_incident_without_requester(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.RESOLVED, org, with_requester=False)
    with pytest.raises(PermissionDenied):
        services.incident_confirm(incident=incident, by=org.agent)
    services.incident_confirm(incident=incident, by=org.incident_manager)
    assert incident.status == S.CLOSED


def test_nobody_closes_before_the_grace_period_ends(org: SimpleNamespace) -> None:
    incident = incident_in(S.RESOLVED, org)
    due = incident.confirmation_due_at
    assert due == incident.resolved_at + LifecyclePolicy.current().confirmation_grace
    with pytest.raises(IncidentConflict, match="may still confirm"):
        services.incident_close_unconfirmed(
            incident=incident, now=due - timedelta(seconds=1)
        )
    services.incident_close_unconfirmed(incident=incident, now=due)
    assert (incident.status, incident.closed_at) == (S.CLOSED, due)
    assert incident.events.last().actor is None


def test_grace_period_comes_from_the_lifecycle_policy(org: SimpleNamespace) -> None:
    LifecyclePolicy.objects.update_or_create(
        pk=1, defaults={"confirmation_grace": timedelta(hours=8)}
    )
    incident = incident_in(S.RESOLVED, org)
    assert incident.confirmation_due_at == incident.resolved_at + timedelta(hours=8)


def test_reopen_by_the_requester_needs_a_reason_and_keeps_it(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.RESOLVED, org)
    within_grace = incident.resolved_at + timedelta(hours=1)
    with pytest.raises(ValidationError):
        services.incident_reopen(
            incident=incident, by=org.requester, reason=" ", now=within_grace
        )
    services.incident_reopen(
        incident=incident, by=org.requester, reason="Still down", now=within_grace
    )
    assert (incident.status, incident.reopen_count, incident.resolved_at) == (
        S.INVESTIGATING,
        1,
        None,
    )
    reply = incident.notes.last()
    assert (reply.kind, reply.author, reply.body) == (
        "reply",
        org.requester,
        "Still down",
    )


def test_another_requester_cannot_reopen(org: SimpleNamespace) -> None:
    incident = incident_in(S.RESOLVED, org)
    with pytest.raises(PermissionDenied):
        services.incident_reopen(incident=incident, by=org.other_requester, reason="x")


# ---------------------------------------------------------------- routing
def test_escalate_moves_up_one_tier_unassigned(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="Needs a DBA")
    assert (incident.team, incident.tier, incident.assignee) == (org.upper, 2, None)
    event = incident.events.filter(kind=K.ESCALATED).get()
    assert event.data["from_tier"] == 1 and event.data["to_tier"] == 2
    assert event.data["reason"] == "Needs a DBA"


def test_escalate_from_the_top_tier_is_refused(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_escalate(incident=incident, by=org.agent, reason="up")
    with pytest.raises(ValidationError, match="no next tier"):
        services.incident_escalate(incident=incident, by=org.agent, reason="again")


def test_escalate_is_refused_on_a_resolved_incident(org: SimpleNamespace) -> None:
    incident = incident_in(S.RESOLVED, org)
    with pytest.raises(IncidentConflict):
        services.incident_escalate(incident=incident, by=org.agent, reason="up")


def test_assign_to_anyone_who_may_work_incidents(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    with pytest.raises(ValidationError, match="may not work incidents"):
        services.incident_assign(
            incident=incident, by=org.agent, assignee=org.requester
        )
    # Not a member of Service Desk, but an agent: they may take it.
    services.incident_assign(incident=incident, by=org.agent, assignee=org.upper_agent)
    assert (incident.team, incident.assignee) == (org.team, org.upper_agent)
    services.incident_assign(
        incident=incident, by=org.agent, team=org.upper, assignee=org.upper_agent
    )
    assert (incident.team, incident.tier, incident.assignee) == (
        org.upper,
        2,
        org.upper_agent,
    )


def test_update_before_triage_reroutes_by_category(org: SimpleNamespace) -> None:
    network = make_team(name="Network", tier=1)
    category = make_category(name="Network", team=network)
    incident = incident_in(S.NEW, org)
    services.incident_update(incident=incident, by=org.agent, category=category)
    assert incident.team == network


def test_update_of_nothing_writes_nothing(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    before, version = kinds(incident), incident.version
    services.incident_update(incident=incident, by=org.agent, title=incident.title)
    assert (kinds(incident), incident.version) == (before, version)


def test_closed_incident_cannot_be_edited(org: SimpleNamespace) -> None:
    incident = incident_in(S.CLOSED, org)
    with pytest.raises(IncidentConflict, match="final"):
        services.incident_update(incident=incident, by=org.agent, title="New")


def test_link_problem_marks_a_known_error(org: SimpleNamespace) -> None:
    problem = Problem.objects.create(title="Relay leaks memory", is_known_error=True)
    incident = incident_in(S.INVESTIGATING, org)
    services.incident_link_problem(incident=incident, by=org.agent, problem=problem)
    assert incident.problem == problem and incident.known_error
    assert list(problem.incidents.all()) == [incident]


def test_merge_records_the_duplicate_on_the_survivor(org: SimpleNamespace) -> None:
    survivor = incident_in(S.INVESTIGATING, org)
    duplicate = incident_in(S.NEW, org)
    services.incident_merge(incident=duplicate, into=survivor, by=org.agent)
    assert (duplicate.status, duplicate.merged_into) == (S.MERGED, survivor)
    assert survivor.events.filter(kind=K.DUPLICATE_MERGED).get().data["duplicate"] == (
        duplicate.pk
    )


@pytest.mark.parametrize("target_status", [S.CLOSED, S.RESOLVED])
def test_merge_only_into_an_open_incident(
    org: SimpleNamespace, target_status: str
) -> None:
    target = incident_in(target_status, org)
    duplicate = incident_in(S.NEW, org)
    with pytest.raises(ValidationError, match="merge into an open incident"):
        services.incident_merge(incident=duplicate, into=target, by=org.agent)
    assert duplicate.status == S.NEW


def test_merge_into_itself_is_refused(org: SimpleNamespace) -> None:
    incident = incident_in(S.NEW, org)
    with pytest.raises(ValidationError, match="itself"):
        services.incident_merge(incident=incident, into=incident, by=org.agent)


# ---------------------------------------------------------------- communication
def test_work_notes_are_for_agents_only(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with pytest.raises(PermissionDenied):
        services.incident_add_note(
            incident=incident, by=org.requester, kind="work_note", body="hi"
        )
    note = services.incident_add_note(
        incident=incident, by=org.agent, kind="work_note", body="Checked logs"
    )
    assert note.is_internal
    assert incident.events.last().kind == K.WORK_NOTE


def test_first_agent_reply_acknowledges(org: SimpleNamespace) -> None:
    incident = incident_in(S.NEW, org)
    at = T0 + timedelta(minutes=7)
    services.incident_add_note(
        incident=incident, by=org.agent, kind="reply", body="Looking", now=at
    )
    assert incident.acknowledged_at == at


def test_requester_reply_resumes_work(org: SimpleNamespace) -> None:
    incident = incident_in(S.AWAITING_REQUESTER, org)
    services.incident_add_note(
        incident=incident, by=org.requester, kind="reply", body="Since Monday"
    )
    assert incident.status == S.INVESTIGATING
    assert incident.events.last().data["transition"] == "resume"


def test_other_requester_cannot_reply(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with pytest.raises(PermissionDenied):
        services.incident_add_note(
            incident=incident, by=org.other_requester, kind="reply", body="me too"
        )
    assert not incident.notes.filter(author=org.other_requester).exists()


def test_empty_note_is_refused(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    with pytest.raises(ValidationError):
        services.incident_add_note(
            incident=incident, by=org.agent, kind="reply", body=""
        )


def test_stakeholder_update_goes_to_the_log(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    due = incident.next_update_due_at  # a P2: an update every hour
    update = services.incident_post_update(
        incident=incident, by=org.agent, body="Mail relay restarted", is_public=True
    )
    assert list(incident.updates.all()) == [update]
    # The due time it answered is kept: whether updates go out on time.
    assert incident.events.last().data == {
        "update": update.pk,
        "public": True,
        "due": due.isoformat(),
    }


def test_no_updates_after_closure(org: SimpleNamespace) -> None:
    incident = incident_in(S.CLOSED, org)
    with pytest.raises(IncidentConflict):
        services.incident_post_update(incident=incident, by=org.agent, body="late")


# ---------------------------------------------------------------- milestones
def test_timestamp_correction_keeps_old_value_and_reason(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    earlier = incident.logged_at - timedelta(hours=2)
    services.incident_correct_timestamp(
        incident=incident,
        by=org.incident_manager,
        field="detected_at",
        value=earlier,
        reason="Monitoring saw it two hours before the call.",
    )
    assert incident.detected_at == earlier
    event = incident.events.filter(kind=K.TIMESTAMP_CORRECTED).get()
    assert event.data["reason"] == "Monitoring saw it two hours before the call."
    assert event.data["old"] == T0.isoformat()


def test_timestamp_correction_keeps_milestones_in_order(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    with pytest.raises(ValidationError, match="stay in order"):
        services.incident_correct_timestamp(
            incident=incident,
            by=org.incident_manager,
            field="detected_at",
            value=incident.logged_at + timedelta(minutes=1),
            reason="typo",
        )


def test_agents_cannot_correct_timestamps(org: SimpleNamespace) -> None:
    incident = incident_in(S.TRIAGED, org)
    with pytest.raises(PermissionDenied):
        services.incident_correct_timestamp(
            incident=incident,
            by=org.agent,
            field="detected_at",
            value=incident.detected_at - timedelta(minutes=1),
            reason="x",
        )


def test_agent_factory_helper_users_have_no_hidden_rights(org: SimpleNamespace) -> None:
    nobody = make_user()
    incident = incident_in(S.NEW, org)
    with pytest.raises(PermissionDenied):
        services.incident_update(incident=incident, by=nobody, title="x")


def test_impact_and_urgency_choices_are_the_matrix_axes() -> None:
    assert set(Impact.values) == set(Urgency.values) == {"high", "medium", "low"}


def test_notes_kind_values_match_timeline_kinds() -> None:
    assert set(IncidentNote.Kind.values) <= set(IncidentEvent.Kind.values)
