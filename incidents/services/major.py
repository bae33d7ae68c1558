"""Major incidents run from one screen: declared (by an incident manager, or by
the system once the incident is P1/P2), with a commander, a communications lead,
responders, a bridge link and a stakeholder list that hears of every stakeholder
update by email. Each write is a service with its own timeline entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from incidents.exceptions import IncidentConflict
from incidents.models import (
    Incident,
    IncidentEvent,
    MajorIncident,
    Notification,
    StakeholderUpdate,
)
from incidents.services._base import (
    User,
    incident_service,
    lock,
    major_declare,
    now_or,
    record,
    refuse_if_final,
    require_perm,
    save,
)
from incidents.services.notifications import outbox_write

MANAGE = "incidents.manage_major_incidents"


def _name(person: User | None) -> str | None:
    if person is None:
        return None
    return person.get_full_name() or person.get_username()


def _check_person(person: User | None, role: str) -> None:
    if person is not None and not (
        person.is_active and person.has_perm("incidents.work_incident")
    ):
        raise ValidationError({role: f"{person} may not work incidents."})


def _major(incident: Incident) -> MajorIncident:
    try:
        return MajorIncident.objects.get(incident=incident)
    except MajorIncident.DoesNotExist:
        raise IncidentConflict(
            f"{incident.number} is not a major incident; declare it first.",
            code="not_major",
        ) from None


def _roles(
    major: MajorIncident,
    *,
    by: User | None,
    at: datetime,
    commander: User | None,
    comms_lead: User | None,
    responders: Iterable[User],
) -> None:
    responders = list(responders)
    for role, person in (("commander", commander), ("comms_lead", comms_lead)):
        _check_person(person, role)
    for person in responders:
        _check_person(person, "responders")
    major.commander, major.comms_lead = commander, comms_lead
    major.save(update_fields=["commander", "comms_lead"])
    major.responders.set(responders)
    record(
        major.incident,
        IncidentEvent.Kind.MAJOR_ROLES,
        by=by,
        at=at,
        commander=_name(commander),
        comms_lead=_name(comms_lead),
        responders=sorted(_name(person) for person in responders),
    )


@incident_service
def incident_declare_major(
    *,
    incident: Incident,
    by: User | None,
    commander: User | None = None,
    comms_lead: User | None = None,
    bridge_url: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> MajorIncident:
    """Declare the incident a major incident (incident managers), optionally naming
    its commander, communications lead and bridge link at once. Refused if it is
    one already (the system declares every P1/P2 itself)."""
    require_perm(by, MANAGE, "declare a major incident")
    lock(incident, by=by, expected_version=expected_version)
    refuse_if_final(incident, "declare a major incident on")
    at = now_or(now)
    if MajorIncident.objects.filter(incident=incident).exists():
        raise IncidentConflict(
            f"{incident.number} is a major incident already.", code="already_major"
        )
    major = major_declare(incident, by=by, at=at)
    if commander or comms_lead:
        _roles(
            major,
            by=by,
            at=at,
            commander=commander,
            comms_lead=comms_lead,
            responders=(),
        )
    if bridge_url:
        _bridge(major, by=by, at=at, bridge_url=bridge_url)
    save(incident, at=at)
    return major


@incident_service
def incident_set_major_roles(
    *,
    incident: Incident,
    by: User | None,
    commander: User | None,
    comms_lead: User | None = None,
    responders: Iterable[User] = (),
    expected_version: int | None = None,
    now: datetime | None = None,
) -> MajorIncident:
    """Name who runs the major incident: the commander, the communications lead
    and the responders (people who may work incidents)."""
    require_perm(by, MANAGE, "set the roles of a major incident")
    lock(incident, by=by, expected_version=expected_version)
    refuse_if_final(incident, "set roles on")
    at = now_or(now)
    major = _major(incident)
    _roles(
        major,
        by=by,
        at=at,
        commander=commander,
        comms_lead=comms_lead,
        responders=responders,
    )
    save(incident, at=at)
    return major


def _bridge(major: MajorIncident, *, by: User | None, at: datetime, bridge_url: str):
    url = bridge_url.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError(
                {"bridge_url": "Give the bridge or chat as an http(s) link."}
            ) from None
    old = major.bridge_url
    major.bridge_url = url
    major.save(update_fields=["bridge_url"])
    record(
        major.incident, IncidentEvent.Kind.MAJOR_BRIDGE, by=by, at=at, old=old, new=url
    )


@incident_service
def incident_set_bridge(
    *,
    incident: Incident,
    by: User | None,
    bridge_url: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> MajorIncident:
    """Set (or clear, with "") the link where responders meet."""
    require_perm(by, MANAGE, "set the bridge of a major incident")
    lock(incident, by=by, expected_version=expected_version)
    refuse_if_final(incident, "set the bridge of")
    at = now_or(now)
    major = _major(incident)
    _bridge(major, by=by, at=at, bridge_url=bridge_url)
    save(incident, at=at)
    return major


@incident_service
def incident_set_stakeholders(
    *,
    incident: Incident,
    by: User | None,
    people: Iterable[User] = (),
    addresses: Iterable[str] = (),
    expected_version: int | None = None,
    now: datetime | None = None,
) -> MajorIncident:
    """Set who receives each stakeholder update by email: people (at their
    address) and other addresses."""
    require_perm(by, MANAGE, "set the stakeholders of a major incident")
    lock(incident, by=by, expected_version=expected_version)
    refuse_if_final(incident, "set the stakeholders of")
    at = now_or(now)
    major = _major(incident)
    people = list(people)
    cleaned = sorted({address.strip().lower() for address in addresses if address})
    for address in cleaned:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"addresses": f"{address} is not an email address."}
            ) from None
    major.stakeholder_addresses = cleaned
    major.save(update_fields=["stakeholder_addresses"])
    major.stakeholders.set(people)
    record(
        incident,
        IncidentEvent.Kind.MAJOR_STAKEHOLDERS,
        by=by,
        at=at,
        people=sorted(_name(person) for person in people),
        addresses=cleaned,
    )
    save(incident, at=at)
    return major


def stakeholder_addresses(major: MajorIncident) -> list[str]:
    """Where a stakeholder update goes: the listed people's addresses (active
    accounts) and the other addresses, each once."""
    people = major.stakeholders.filter(is_active=True).exclude(email="")
    found = {email.lower() for email in people.values_list("email", flat=True)}
    return sorted(found | set(major.stakeholder_addresses))


def stakeholders_notify(
    incident: Incident, update: StakeholderUpdate, *, at: datetime
) -> list[Notification]:
    """Email a stakeholder update to the major incident's stakeholder list through
    the outbox (in the caller's transaction). Nothing for an incident that is not
    a major incident."""
    major = MajorIncident.objects.filter(incident=incident).first()
    if major is None:
        return []
    priority = f"P{incident.priority}" if incident.priority else "no priority"
    subject = f"{incident.number} ({priority}) update: {incident.title}"[:255]
    payload: dict[str, Any] = {
        "event": "stakeholder_update",
        "at": at.isoformat(),
        "incident": {"number": incident.number, "title": incident.title},
        "update": update.pk,
    }
    body = (
        f"{incident.number}: {incident.title}\n"
        f"Priority: {priority} · State: {incident.get_status_display()}\n\n"
        f"{update.body}\n"
    )
    rows = [
        Notification(
            channel=Notification.Channel.EMAIL,
            recipient=address,
            incident=incident,
            event="stakeholder_update",
            subject=subject,
            body=body,
            payload=payload,
            next_attempt_at=at,
            created_at=at,
        )
        for address in stakeholder_addresses(major)
    ]
    return outbox_write(rows) if rows else []
