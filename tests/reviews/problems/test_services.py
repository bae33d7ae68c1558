"""The problem services: the lifecycle table, who may do what, version checks,
links on both timelines, and bad input that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import services as incident_services
from incidents.exceptions import IncidentConflict
from incidents.models import IncidentEvent, Problem, ProblemEvent
from reviews.problems import services
from tests.factories import make_incident, make_team
from tests.reviews.problems.conftest import make_problem

pytestmark = pytest.mark.django_db

S = Problem.Status
# (from, service) -> the state it ends in, or None for refused (409).
LIFECYCLE = [
    (S.OPEN, "known-error", S.KNOWN_ERROR),
    (S.OPEN, "resolve", S.RESOLVED),
    (S.OPEN, "close", None),
    (S.KNOWN_ERROR, "known-error", None),
    (S.KNOWN_ERROR, "resolve", S.RESOLVED),
    (S.KNOWN_ERROR, "close", None),
    (S.RESOLVED, "known-error", None),
    (S.RESOLVED, "resolve", None),
    (S.RESOLVED, "close", S.CLOSED),
    (S.CLOSED, "known-error", None),
    (S.CLOSED, "resolve", None),
    (S.CLOSED, "close", None),
]
PATH = {
    S.OPEN: [],
    S.KNOWN_ERROR: ["known-error"],
    S.RESOLVED: ["resolve"],
    S.CLOSED: ["resolve", "close"],
}


def _problem_in(state: str, crew: Any) -> Problem:
    problem = make_problem(
        crew=crew, root_cause="Expired certificate", workaround="Reconnect"
    )
    for step in PATH[state]:
        services.PROBLEM_TRANSITIONS[step](problem=problem, by=crew["member"])
    assert problem.status == state
    return problem


@pytest.mark.parametrize(("source", "step", "target"), LIFECYCLE)
def test_lifecycle_table(crew: Any, source: str, step: str, target: Any) -> None:
    problem = _problem_in(source, crew)
    version = problem.version
    events = ProblemEvent.objects.filter(problem=problem).count()
    service = services.PROBLEM_TRANSITIONS[step]
    if target is None:
        with pytest.raises(IncidentConflict) as caught:
            service(problem=problem, by=crew["member"])
        assert caught.value.code == "invalid_transition"
        problem.refresh_from_db()
        assert (problem.status, problem.version) == (source, version)
        assert ProblemEvent.objects.filter(problem=problem).count() == events
        return
    service(problem=problem, by=crew["member"], version=version)
    problem.refresh_from_db()
    assert problem.status == target
    assert problem.version == version + 1
    last = ProblemEvent.objects.filter(problem=problem).last()
    assert last.kind == ProblemEvent.Kind.TRANSITION
    assert (last.data["source"], last.data["target"]) == (source, target)
    assert last.actor == crew["member"]


def test_the_status_field_is_protected(crew: Any) -> None:
    problem = make_problem(crew=crew)
    with pytest.raises(AttributeError):
        problem.status = S.CLOSED


def test_transitions_need_what_they_record(crew: Any) -> None:
    problem = make_problem(crew=crew)
    with pytest.raises(ValidationError) as caught:
        services.problem_mark_known_error(problem=problem, by=crew["member"])
    assert "workaround" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.problem_resolve(problem=problem, by=crew["member"])
    assert "root_cause" in caught.value.message_dict
    problem.refresh_from_db()
    assert problem.status == S.OPEN
    assert problem.version == 1
    assert not problem.is_known_error


def test_known_error_marks_it_and_stamps_times(crew: Any) -> None:
    problem = _problem_in(S.KNOWN_ERROR, crew)
    assert problem.is_known_error
    services.problem_resolve(problem=problem, by=crew["member"])
    services.problem_close(problem=problem, by=crew["member"])
    problem.refresh_from_db()
    assert problem.resolved_at is not None and problem.closed_at is not None


# ---------------------------------------------------------------- who may
@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("member", True),
        ("outsider", False),
        ("incident_manager", True),
        ("manager", True),
        ("requester", False),
    ],
)
def test_who_may_work_a_team_problem(crew: Any, who: str, allowed: bool) -> None:
    problem = make_problem(crew=crew, workaround="Reconnect")
    user = crew[who]
    if allowed:
        services.problem_update(
            problem=problem, by=user, version=problem.version, title="New title"
        )
        services.problem_mark_known_error(problem=problem, by=user)
        problem.refresh_from_db()
        assert (problem.title, problem.status) == ("New title", S.KNOWN_ERROR)
        return
    with pytest.raises(PermissionDenied):
        services.problem_update(
            problem=problem, by=user, version=problem.version, title="New title"
        )
    with pytest.raises(PermissionDenied):
        services.problem_mark_known_error(problem=problem, by=user)
    problem.refresh_from_db()
    assert (problem.title, problem.status, problem.version) == (
        "VPN tunnel drops every hour",
        S.OPEN,
        1,
    )


def test_requesters_and_outsiders_cannot_open_team_problems(crew: Any) -> None:
    with pytest.raises(PermissionDenied):
        make_problem(crew=crew, by=crew["requester"])
    with pytest.raises(ValidationError) as caught:
        make_problem(crew=crew, by=crew["outsider"])
    assert "owner_team" in caught.value.message_dict
    with pytest.raises(ValidationError):
        make_problem(crew=crew, owner_team=None)
    # Incident managers give problems to any team.
    make_problem(crew=crew, by=crew["incident_manager"])
    assert Problem.objects.count() == 1


def test_an_agent_cannot_hand_a_problem_to_a_team_they_are_not_in(crew: Any) -> None:
    problem = make_problem(crew=crew)
    with pytest.raises(ValidationError):
        services.problem_update(
            problem=problem,
            by=crew["member"],
            version=1,
            owner_team=make_team(name="Elsewhere"),
            title="Changed too",
        )
    problem.refresh_from_db()
    assert problem.owner_team == crew["team"]
    assert problem.title == "VPN tunnel drops every hour"


# ---------------------------------------------------------------- versions, input
def test_a_stale_version_is_refused_and_nothing_is_written(crew: Any) -> None:
    problem = make_problem(crew=crew)
    other = Problem.objects.get(pk=problem.pk)
    services.problem_update(
        problem=other, by=crew["member"], version=1, description="First"
    )
    with pytest.raises(IncidentConflict) as caught:
        services.problem_update(
            problem=problem, by=crew["member"], version=1, description="Second"
        )
    assert caught.value.code == "stale"
    problem.refresh_from_db()
    assert (problem.description, problem.version) == ("First", 2)
    with pytest.raises(IncidentConflict):
        services.problem_resolve(problem=problem, by=crew["member"], version=1)


def test_an_update_records_each_change(crew: Any) -> None:
    problem = make_problem(crew=crew)
    services.problem_update(
        problem=problem,
        by=crew["member"],
        version=1,
        title="  VPN tunnel drops every hour ",
        root_cause="Expired certificate",
        workaround="Reconnect",
    )
    changes = ProblemEvent.objects.filter(
        problem=problem, kind=ProblemEvent.Kind.FIELD_CHANGED
    )
    assert sorted(changes.values_list("data__field", flat=True)) == [
        "root_cause",
        "workaround",
    ]
    assert problem.version == 2


def test_a_blank_title_or_a_closed_problem_is_refused(crew: Any) -> None:
    problem = make_problem(crew=crew, root_cause="Cause")
    with pytest.raises(ValidationError):
        services.problem_update(
            problem=problem, by=crew["member"], version=1, title="  "
        )
    problem.refresh_from_db()
    assert problem.title == "VPN tunnel drops every hour"
    services.problem_resolve(problem=problem, by=crew["member"])
    services.problem_close(problem=problem, by=crew["member"])
    with pytest.raises(IncidentConflict) as caught:
        services.problem_update(
            problem=problem, by=crew["member"], version=None, title="Again"
        )
    assert caught.value.code == "final"


def test_a_known_error_keeps_its_workaround(crew: Any) -> None:
    problem = _problem_in(S.KNOWN_ERROR, crew)
    with pytest.raises(ValidationError):
        services.problem_update(
            problem=problem, by=crew["member"], version=None, workaround=" "
        )
    problem.refresh_from_db()
    assert problem.workaround == "Reconnect"


# ---------------------------------------------------------------- links
def test_link_and_unlink_show_on_both_timelines(crew: Any) -> None:
    incident = make_incident()
    problem = make_problem(crew=crew, incidents=[incident])
    incident.refresh_from_db()
    assert incident.problem == problem
    assert incident.events.filter(
        kind=IncidentEvent.Kind.PROBLEM_LINKED, data__problem=problem.pk
    ).exists()
    linked = problem.events.get(kind=ProblemEvent.Kind.INCIDENT_LINKED)
    assert linked.data["number"] == incident.number
    services.problem_unlink_incident(
        problem=problem, incident=incident, by=crew["member"]
    )
    incident.refresh_from_db()
    assert incident.problem is None
    assert incident.events.filter(kind=IncidentEvent.Kind.PROBLEM_UNLINKED).exists()
    assert problem.events.filter(kind=ProblemEvent.Kind.INCIDENT_UNLINKED).exists()


def test_moving_an_incident_unlinks_it_from_its_old_problem(crew: Any) -> None:
    incident = make_incident()
    first = make_problem(crew=crew, incidents=[incident])
    second = make_problem(crew=crew, title="Another cause")
    services.problem_link_incident(problem=second, incident=incident, by=crew["member"])
    incident.refresh_from_db()
    assert incident.problem == second
    assert first.events.filter(kind=ProblemEvent.Kind.INCIDENT_UNLINKED).exists()
    with pytest.raises(ValidationError):
        services.problem_unlink_incident(
            problem=first, incident=incident, by=crew["member"]
        )
    incident.refresh_from_db()
    assert incident.problem == second


def test_links_are_refused_to_those_who_may_not(crew: Any) -> None:
    incident = make_incident()
    problem = make_problem(crew=crew)
    with pytest.raises(PermissionDenied):
        services.problem_link_incident(
            problem=problem, incident=incident, by=crew["outsider"]
        )
    with pytest.raises(PermissionDenied):
        incident_services.incident_unlink_problem(
            incident=incident, by=crew["requester"]
        )
    incident.refresh_from_db()
    assert incident.problem is None
    assert not problem.events.filter(kind=ProblemEvent.Kind.INCIDENT_LINKED).exists()


def test_a_closed_problem_takes_no_more_incidents(crew: Any) -> None:
    problem = _problem_in(S.CLOSED, crew)
    incident = make_incident()
    with pytest.raises(IncidentConflict):
        services.problem_link_incident(
            problem=problem, incident=incident, by=crew["incident_manager"]
        )
    incident.refresh_from_db()
    assert incident.problem is None
    assert not IncidentEvent.objects.filter(
        incident=incident, kind=IncidentEvent.Kind.PROBLEM_LINKED
    ).exists()


def test_a_failed_link_in_create_writes_no_problem(crew: Any) -> None:
    incident = make_incident()
    incident_services.incident_cancel(
        incident=incident, by=None, reason="Not an incident"
    )
    with pytest.raises(IncidentConflict):
        make_problem(crew=crew, incidents=[incident])
    assert Problem.objects.count() == 0
    assert ProblemEvent.objects.count() == 0


def test_triage_does_not_link_a_closed_problem(crew: Any) -> None:
    from incidents.models import Impact, Urgency
    from tests.factories import make_category

    problem = _problem_in(S.CLOSED, crew)
    incident = make_incident()
    with pytest.raises(ValidationError):
        incident_services.incident_triage(
            incident=incident,
            by=crew["member"],
            category=make_category(team=crew["team"]),
            impact=Impact.LOW,
            urgency=Urgency.LOW,
            problem=problem,
        )
    incident.refresh_from_db()
    assert incident.problem is None and incident.status == "new"


def test_triage_with_a_problem_puts_it_on_the_problem_timeline(crew: Any) -> None:
    from incidents.models import Impact, Urgency
    from tests.factories import make_category

    problem = make_problem(crew=crew)
    incident = make_incident()
    incident_services.incident_triage(
        incident=incident,
        by=crew["member"],
        category=make_category(team=crew["team"]),
        impact=Impact.LOW,
        urgency=Urgency.LOW,
        problem=problem,
    )
    assert problem.events.filter(
        kind=ProblemEvent.Kind.INCIDENT_LINKED, data__incident=incident.pk
    ).exists()
