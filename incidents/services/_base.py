"""What every incident service shares: locking, saving, the timeline, transitions.

Each public service is one transaction that (1) locks the incident row and brings
the caller's copy up to date with it, (2) checks the caller's permission and the
lifecycle against the row as it is now, (3) writes the incident, and (4) appends to
the timeline. ``by=None`` means the system itself (an alert, a scheduled job). A
deadlock victim is run again from the start of its transaction (``retried``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from incidents.exceptions import IncidentConflict
from incidents.models import (
    Alert,
    Incident,
    IncidentEvent,
    MajorIncident,
    Priority,
    priority_for,
)
from incidents.services.requester_notices import (
    TRANSITION_EVENTS,
    duplicates_notify,
    requester_notify,
)
from incidents.services.retry import retried
from incidents.signatures import classified_signature, is_alert_signature
from incidents.sla.sync import SLA_FIELDS, sla_sync

User = AbstractBaseUser
T = TypeVar("T")

# How each transition reads in a sentence: "Cannot <verb> INC-000001: ..."
TRANSITION_VERBS = {
    "triage": "triage",
    "start_work": "start work on",
    "wait_for_requester": "wait for the requester on",
    "resume": "resume",
    "resolve": "resolve",
    "confirm": "confirm",
    "close": "close",
    "reopen": "reopen",
    "cancel": "cancel",
    "merge": "merge",
}

# Relations are checked by the services themselves (and by the database), so
# validation skips them instead of spending one query each; the status field is
# protected and only the lifecycle moves it.
_NOT_VALIDATED = [
    "status",
    "category",
    "team",
    "assignee",
    "requester",
    "problem",
    "merged_into",
    "follows_up",
]


def now_or(now: datetime | None) -> datetime:
    return now or timezone.now()


def require_perm(by: User | None, permission: str, action: str) -> None:
    if by is not None and not by.has_perm(permission):
        raise PermissionDenied(f"You may not {action}.")


def lock(
    incident: Incident,
    *,
    by: User | None,
    expected_version: int | None = None,
    for_transition: bool = False,
) -> None:
    """Lock the incident's row until the transaction ends, and bring the caller's
    copy up to date with it: whatever the service checks and writes next, it does
    on the incident as it is now, never over a change it did not see.

    Refused as stale (409) only when a person's view is out of date in a way that
    matters: the version they sent is not the current one, or, for a transition,
    the incident has left the state they chose it in. Without a version an edit
    applies to the incident as it is; notes and replies only add. The system's
    own writes (``by=None``) are never refused: they act on the row as it is."""
    seen = incident.status
    row = Incident.objects.select_for_update(no_key=True).get(pk=incident.pk)
    _adopt(incident, row)
    if expected_version is not None and expected_version != row.version:
        raise IncidentConflict(
            f"{incident.number} was changed by someone else meanwhile; reload it "
            "and try again.",
            code="stale",
        )
    if for_transition and by is not None and row.status != seen:
        raise IncidentConflict(
            f"{incident.number} was changed by someone else meanwhile: it is now "
            f"{row.get_status_display().lower()}. Reload it and try again.",
            code="stale",
        )


def locked(pk: int) -> Incident:
    """The incident, its row locked until the transaction ends: for the system's
    own writes, which decide what to do on the row as it is."""
    return Incident.objects.select_for_update(no_key=True).get(pk=pk)


def _adopt(incident: Incident, row: Incident) -> None:
    """Give the caller's copy the values of ``row``, a fresh load of the same
    incident. Related objects cached on the copy stay unless their id changed.
    Values are set in the instance's dictionary: the status field refuses plain
    assignment, and django-fsm's own reload lifts that guard on the field itself,
    for every thread of the process at once."""
    for field in Incident._meta.concrete_fields:
        value = getattr(row, field.attname)
        if field.is_relation and field.is_cached(incident):
            if value != getattr(incident, field.attname):
                field.delete_cached_value(incident)
        incident.__dict__[field.attname] = value
    incident._update_initial_state()  # what ConcurrentTransitionMixin compares
    incident._state.adding = False
    incident._state.db = row._state.db


def refuse_if_final(incident: Incident, action: str) -> None:
    if incident.status in Incident.FINAL_STATUSES:
        raise IncidentConflict(
            f"Cannot {action} {incident.number}: it is "
            f"{incident.get_status_display().lower()}, which is final.",
            code="final",
        )


def save(incident: Incident, *, at: datetime) -> None:
    """Validate and save, bumping the version, with the SLA clocks brought in step
    with whatever the caller changed."""
    is_new = incident.pk is None
    if not is_new:
        sla_sync(incident, at=at)
    incident.full_clean(
        exclude=_NOT_VALIDATED, validate_unique=False, validate_constraints=False
    )
    incident.version += 1
    try:
        incident.save()
    except ConcurrentTransition as exc:
        raise IncidentConflict(
            f"{incident.number} changed state meanwhile; reload it and try again.",
            code="stale",
        ) from exc
    if is_new:  # the clocks' ledger needs the incident's id
        sla_sync(incident, at=at)
        incident.save(update_fields=SLA_FIELDS)
    if incident.priority in Priority.major():
        if not is_new:  # a new one is declared once its logging is recorded
            major_duties(incident, at=at)
        # A major incident may be proposed for (or resolve) a status page entry.
        status_page_changed(incident)


def major_duties(incident: Incident, *, at: datetime) -> None:
    """A P1/P2 is a major incident from that moment: the system declares it, so
    its duties (commander, stakeholders, updates) start at once."""
    if incident.priority in Priority.major() and not (
        MajorIncident.objects.filter(incident=incident).exists()
    ):
        major_declare(incident, by=None, at=at)


def major_declare(incident: Incident, *, by: User | None, at: datetime) -> Any:
    """Make the incident a major incident (its record and a timeline entry); by
    the system (``by=None``) when it became P1/P2."""
    major = MajorIncident.objects.create(
        incident=incident, declared_at=at, declared_by=by
    )
    record(
        incident,
        IncidentEvent.Kind.MAJOR_DECLARED,
        by=by,
        at=at,
        priority=incident.priority,
        automatic=by is None,
    )
    return major


def resign(incident: Incident, *, service_ids: Iterable[int] | None = None) -> None:
    """Bring the incident's error signature in step with its category and services
    (``service_ids`` when they are about to change). An alert's signature stays: the
    alert, not its classification, is what recurs."""
    if is_alert_signature(incident.signature):
        return
    if service_ids is None:
        service_ids = (
            incident.services.values_list("pk", flat=True) if incident.pk else ()
        )
    incident.signature = classified_signature(
        category_id=incident.category_id, service_ids=service_ids
    )


def status_page_changed(incident: Incident) -> None:
    """The one hook from the incident services to the public status page: after
    commit, tell it that ``incident`` changed (a major incident was written, or a
    public stakeholder update posted); it decides what that means for its entry
    (``incidents.status.hooks``). Never fails the caller, and nothing runs if the
    transaction rolls back."""
    pk = incident.pk

    def tell() -> None:
        from incidents.status.hooks import incident_changed

        incident_changed(incident_id=pk)

    transaction.on_commit(tell, robust=True)


def record(
    incident: Incident,
    kind: IncidentEvent.Kind,
    *,
    by: User | None,
    at: datetime,
    **data: Any,
) -> IncidentEvent:
    """Append one entry to the incident's timeline."""
    return IncidentEvent.objects.create(
        incident=incident, kind=kind, actor=by, at=at, data=data
    )


def _display(value: Any) -> Any:
    """How a field value is kept in the timeline: JSON-safe and readable."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def set_fields(
    incident: Incident, *, by: User | None, at: datetime, **values: Any
) -> list[str]:
    """Set fields on the incident and record each real change in the timeline;
    recompute the priority when impact or urgency changed. Returns the changed
    field names."""
    changed = []
    for name, new in values.items():
        field = incident._meta.get_field(name)
        old = getattr(incident, name)
        if old == new:
            continue
        setattr(incident, name, new)
        changed.append(name)
        record(
            incident,
            IncidentEvent.Kind.FIELD_CHANGED,
            by=by,
            at=at,
            field=field.name,
            old=_display(old),
            new=_display(new),
        )
    if {"impact", "urgency"} & set(changed):
        priority = (
            priority_for(incident.impact, incident.urgency)
            if incident.impact and incident.urgency
            else None
        )
        if priority != incident.priority:
            record(
                incident,
                IncidentEvent.Kind.FIELD_CHANGED,
                by=by,
                at=at,
                field="priority",
                old=incident.priority,
                new=priority,
            )
            incident.priority = priority
    return changed


def require_transition(
    incident: Incident, name: str, *, by: User | None
) -> Callable[..., Any]:
    """Refuse now, before any input is looked at, unless the lifecycle allows
    transition ``name`` from the incident's state (``IncidentConflict``) and the
    caller may run it (``PermissionDenied``). Returns the bound transition."""
    method = getattr(incident, name)
    verb = TRANSITION_VERBS[name]
    if not can_proceed(method, check_conditions=False):
        raise IncidentConflict(
            f"Cannot {verb} {incident.number}: it is "
            f"{incident.get_status_display().lower()}.",
            code="invalid_transition",
        )
    if by is not None:
        rule = method._django_fsm.get_transition(incident.status)
        if not rule.has_perm(incident, by):
            raise PermissionDenied(f"You may not {verb} this incident.")
    return method


def transition(
    incident: Incident,
    name: str,
    *,
    by: User | None,
    at: datetime,
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> IncidentEvent:
    """Run lifecycle transition ``name``, save, and record it. Raises
    ``IncidentConflict`` if the state does not allow it, ``PermissionDenied`` if the
    caller may not, and ``IncidentConflict`` if a guard still fails (the services
    check their guards first, with field errors, so that is a bug guard)."""
    method = require_transition(incident, name, by=by)
    verb = TRANSITION_VERBS[name]
    source = incident.status
    try:
        method(at=at, **kwargs)
    except TransitionNotAllowed as exc:  # a guard (condition) failed
        raise IncidentConflict(
            f"Cannot {verb} {incident.number}: its preconditions are not met.",
            code="invalid_transition",
        ) from exc
    save(incident, at=at)
    if incident.status in Incident.FINAL_STATUSES:
        _settle_alerts(incident)
    event = record(
        incident,
        IncidentEvent.Kind.TRANSITION,
        by=by,
        at=at,
        transition=name,
        source=source,
        target=incident.status,
        **(details or {}),
    )
    # Here, not in each service, so every path (console, API, the sweep's
    # auto-close) tells the requester.
    if notice := TRANSITION_EVENTS.get(name):
        requester_notify(incident, notice, at=at)
    if name == "resolve":
        duplicates_notify(incident, at=at)
    return event


def _settle_alerts(incident: Incident) -> None:
    """An incident that ended frees its alerts' keys, so the next firing opens a new
    incident; a merged duplicate hands its alerts to the incident it merged into."""
    open_alerts = Alert.objects.filter(incident=incident, is_open=True)
    if incident.status == Incident.Status.MERGED:
        open_alerts.update(incident=incident.merged_into_id)
    else:
        open_alerts.update(is_open=False)


def incident_service(func: Callable[..., T]) -> Callable[..., T]:
    """Run a service in one transaction, again if PostgreSQL aborted it as a
    deadlock victim. If it fails, the caller's incident objects are reloaded, so
    nothing half-applied in memory outlives the rollback."""

    @functools.wraps(func)
    @retried
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except Exception:
            for name in ("incident", "into"):
                obj = kwargs.get(name)
                if isinstance(obj, Incident) and obj.pk is not None:
                    with contextlib.suppress(DatabaseError, Incident.DoesNotExist):
                        _adopt(obj, Incident.objects.get(pk=obj.pk))
            raise

    return run
