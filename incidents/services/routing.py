"""Who works an incident: assignment, escalation, and the link to a problem."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent, Problem, ProblemEvent, Team
from incidents.services._base import (
    User,
    incident_service,
    lock,
    now_or,
    record,
    refuse_if_final,
    require_perm,
    save,
    set_fields,
)
from incidents.services.notifications import notify


def _refuse_unless_open(incident: Incident, action: str) -> None:
    refuse_if_final(incident, action)
    if incident.status not in Incident.OPEN_STATUSES:
        raise IncidentConflict(
            f"Cannot {action} {incident.number}: it is "
            f"{incident.get_status_display().lower()}.",
            code="invalid_transition",
        )


@incident_service
def incident_assign(
    *,
    incident: Incident,
    by: User | None,
    assignee: User | None,
    team: Team | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Give an open incident to a team (default: its current one) and a person who
    may work incidents (a member of that team or not), or to nobody in it
    (``assignee=None``)."""
    require_perm(by, "incidents.work_incident", "assign this incident")
    lock(incident, by=by, expected_version=expected_version)
    _refuse_unless_open(incident, "assign")
    at = now_or(now)
    team = team or incident.team
    if team is None:
        raise ValidationError({"team": "Choose a team first."})
    # Anyone who may work incidents may take it, not only the team's members:
    # a team with nobody in it must not strand the incident.
    if assignee is not None and not (
        assignee.is_active and assignee.has_perm("incidents.work_incident")
    ):
        raise ValidationError({"assignee": f"{assignee} may not work incidents."})
    changed = set_fields(
        incident, by=by, at=at, team=team, tier=team.tier, assignee=assignee
    )
    if changed:
        save(incident, at=at)
        record(
            incident,
            IncidentEvent.Kind.ASSIGNED,
            by=by,
            at=at,
            team=team.pk,
            assignee=assignee.pk if assignee else None,
        )
    return incident


@incident_service
def incident_escalate(
    *,
    incident: Incident,
    by: User | None,
    reason: str,
    to_team: Team | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """Hand an open incident up to a team of a higher tier: the given one, or the
    current team's next tier. It arrives unassigned, for that team to take, and
    its members and lead are told. An escalation always reaches a person: into a
    team with no active members it goes to the team's lead (assigned to them),
    else to the incident managers; the timeline names who was told and why."""
    require_perm(by, "incidents.work_incident", "escalate this incident")
    lock(incident, by=by, expected_version=expected_version)
    _refuse_unless_open(incident, "escalate")
    at = now_or(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the incident is escalated."})
    current = incident.team
    target = to_team or (current.next_tier if current else None)
    if target is None:
        raise ValidationError(
            {
                "to_team": f"{current.name if current else 'No team'} has no next tier "
                "to escalate to."
            }
        )
    if target.tier <= incident.tier:
        raise ValidationError(
            {
                "to_team": f"{target.name} is tier {target.tier}; escalation goes to a "
                f"higher tier than {incident.tier}."
            }
        )
    from_tier = incident.tier
    told, why = target.escalation_audience()
    lead_alone = told == [target.lead] and not target.active_members()
    assignee = target.lead if lead_alone else None
    set_fields(incident, by=by, at=at, team=target, tier=target.tier, assignee=assignee)
    save(incident, at=at)
    record(
        incident,
        IncidentEvent.Kind.ESCALATED,
        by=by,
        at=at,
        from_team=current.pk if current else None,
        to_team=target.pk,
        from_tier=from_tier,
        to_tier=target.tier,
        reason=reason.strip(),
        told=[_name(person) for person in told],
        told_why=why,
    )
    notify(incident, "escalated", at=at, team=target.name, reason=reason.strip())
    return incident


def _refuse_unless_an_incident(incident: Incident, action: str) -> None:
    """A problem looks back over history, so closed incidents are linked too; a
    cancelled one (not an incident) or a merged duplicate is not."""
    if incident.status in (Incident.Status.CANCELLED, Incident.Status.MERGED):
        raise IncidentConflict(
            f"Cannot {action} {incident.number}: it is "
            f"{incident.get_status_display().lower()}.",
            code="final",
        )


def problem_record(
    problem_id: int,
    kind: ProblemEvent.Kind,
    *,
    incident: Incident,
    by: User | None,
    at: datetime,
) -> None:
    """The other half of a link: the same change on the problem's own timeline."""
    ProblemEvent.objects.create(
        problem_id=problem_id,
        kind=kind,
        actor=by,
        at=at,
        data={"incident": incident.pk, "number": incident.number},
    )


def _name(person: User) -> str:
    return person.get_full_name() or person.get_username()


@incident_service
def incident_link_problem(
    *,
    incident: Incident,
    by: User | None,
    problem: Problem,
    now: datetime | None = None,
) -> Incident:
    """Link the incident to the problem behind it, on both timelines; a
    known-error problem marks the incident as a known error. An incident linked
    to another problem moves to this one (unlinked from the other, on its
    timeline too). Closed incidents are linked too (a problem gathers the past
    ones); cancelled and merged ones are not, and a closed problem takes no more
    incidents (409)."""
    require_perm(by, "incidents.work_incident", "link this incident to a problem")
    lock(incident, by=by)
    _refuse_unless_an_incident(incident, "link")
    status = Problem.objects.filter(pk=problem.pk).values_list("status", flat=True)
    if status.get() == Problem.Status.CLOSED:
        raise IncidentConflict(
            f"{problem.number} is closed; it takes no more incidents.",
            code="final",
        )
    at = now_or(now)
    previous = incident.problem_id
    changed = set_fields(
        incident,
        by=by,
        at=at,
        problem=problem,
        known_error=incident.known_error or problem.is_known_error,
    )
    if changed:
        save(incident, at=at)
    if previous != problem.pk:
        if previous is not None:
            problem_record(
                previous,
                ProblemEvent.Kind.INCIDENT_UNLINKED,
                incident=incident,
                by=by,
                at=at,
            )
        record(
            incident,
            IncidentEvent.Kind.PROBLEM_LINKED,
            by=by,
            at=at,
            problem=problem.pk,
            number=problem.number,
        )
        problem_record(
            problem.pk,
            ProblemEvent.Kind.INCIDENT_LINKED,
            incident=incident,
            by=by,
            at=at,
        )
    return incident


@incident_service
def incident_unlink_problem(
    *,
    incident: Incident,
    by: User | None,
    now: datetime | None = None,
) -> Incident:
    """Take the incident off its problem (it was not this cause after all), on
    both timelines. Its known-error mark stays: triage did match one. An incident
    with no problem is left as it is."""
    require_perm(by, "incidents.work_incident", "unlink this incident from a problem")
    lock(incident, by=by)
    _refuse_unless_an_incident(incident, "unlink")
    previous = incident.problem_id
    if previous is None:
        return incident
    at = now_or(now)
    number = Problem.objects.filter(pk=previous).get().number
    set_fields(incident, by=by, at=at, problem=None)
    save(incident, at=at)
    record(
        incident,
        IncidentEvent.Kind.PROBLEM_UNLINKED,
        by=by,
        at=at,
        problem=previous,
        number=number,
    )
    problem_record(
        previous, ProblemEvent.Kind.INCIDENT_UNLINKED, incident=incident, by=by, at=at
    )
    return incident
