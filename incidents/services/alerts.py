"""Alert intake: monitoring signals become incidents, occurrences and recoveries.

The hot path (a repeat of an open alert) is one upsert and one timeline row; the
"at most one open alert per key" rule is a unique index, so concurrent deliveries
of the same new alert cannot open two incidents: the database makes the second
one an occurrence of the first. On PostgreSQL a delivery of one repeat of a firing
alert is a single statement (see ``_REPEAT_IN_ONE_STATEMENT``).

Concurrent deliveries never refuse each other, nor an agent's edit: the alerts of
a delivery are locked in the order of their keys (two deliveries of the same alerts
in different orders would otherwise deadlock), an incident is locked before its
state is looked at, and the lifecycle acts on it as it is then. A deadlock that
still happens is run again (``retried``). Every delivery is recorded, whatever
became of its incident.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from incidents.dispatch import send_task_by_name
from incidents.exceptions import IncidentConflict
from incidents.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEvent,
    Integration,
    MaintenanceWindow,
    Service,
)
from incidents.models.alerts import alert_name, token_generate, token_hash
from incidents.services._base import locked, now_or
from incidents.services.intake import incident_log
from incidents.services.lifecycle import incident_reopen, incident_resolve
from incidents.services.retry import retried
from incidents.signatures import alert_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSignal:
    """One alert in a delivery, whatever the sender's format."""

    dedup_key: str
    status: str  # "firing", "resolved" or "acknowledged"
    title: str = ""
    description: str = ""
    severity: str = ""
    service: str = ""
    started_at: datetime | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    # [{"href", "text"}]: runbooks, dashboards, the sender's own page.
    links: list[dict[str, str]] = field(default_factory=list)
    # The sender's group (Alertmanager's groupKey), for grouping by it.
    group_key: str = ""

    @property
    def name(self) -> str:
        return alert_name(self.title, self.labels)


class _Row(NamedTuple):
    alert_id: int
    incident_id: int | None
    occurrences: int
    status_changed: bool
    maintenance_window_id: int | None = None


_TABLE = Alert._meta.db_table

# Both PostgreSQL and SQLite (3.35+) take this: the conflict target names the
# partial unique index "alert_one_open_per_key".
_UPSERT_FIRING = f"""
INSERT INTO {_TABLE} (integration_id, dedup_key, status, is_open, status_changed,
                      title, occurrences, first_seen_at, last_seen_at, severity,
                      labels, annotations, links, group_key, repeats,
                      last_delivery_id, description, service_name, started_at)
VALUES (%s, %s, 'firing', TRUE, TRUE, %s, 1, %s, %s, %s, %s, %s, %s, %s, 0, %s,
        %s, %s, %s)
ON CONFLICT (integration_id, dedup_key) WHERE is_open DO UPDATE SET
    occurrences = {_TABLE}.occurrences + 1,
    last_seen_at = excluded.last_seen_at,
    repeats = {_TABLE}.repeats
        + CASE WHEN {_TABLE}.status = 'firing' THEN 1 ELSE 0 END,
    last_repeat_at = CASE WHEN {_TABLE}.status = 'firing'
        THEN excluded.last_seen_at ELSE {_TABLE}.last_repeat_at END,
    status_changed = ({_TABLE}.status <> 'firing'),
    status = 'firing',
    title = excluded.title,
    severity = excluded.severity,
    labels = excluded.labels,
    annotations = excluded.annotations,
    links = excluded.links,
    group_key = excluded.group_key,
    last_delivery_id = excluded.last_delivery_id,
    description = excluded.description,
    service_name = excluded.service_name
RETURNING id, incident_id, occurrences, status_changed, maintenance_window_id
"""

# A recovery, and a repeated one (a recovery of a recovered alert) as a repeat.
_RECORD_RECOVERY = f"""
UPDATE {_TABLE} SET
    occurrences = occurrences + 1,
    last_seen_at = %s,
    recovered_at = CASE WHEN status = 'resolved' THEN recovered_at ELSE %s END,
    repeats = repeats + CASE WHEN status = 'resolved' THEN 1 ELSE 0 END,
    last_repeat_at = CASE WHEN status = 'resolved' THEN %s ELSE last_repeat_at END,
    last_delivery_id = %s,
    status_changed = (status <> 'resolved'),
    status = 'resolved'
WHERE integration_id = %s AND dedup_key = %s AND is_open
RETURNING id, incident_id, occurrences, status_changed, maintenance_window_id
"""

# The first acknowledgement changes the alert's state; later ones are repeats.
_RECORD_ACK = f"""
UPDATE {_TABLE} SET occurrences = occurrences + 1, last_seen_at = %s,
    repeats = repeats + CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END,
    last_repeat_at = CASE WHEN acknowledged_at IS NULL THEN last_repeat_at ELSE %s END,
    status_changed = (acknowledged_at IS NULL),
    acknowledged_at = COALESCE(acknowledged_at, %s),
    last_delivery_id = %s
WHERE integration_id = %s AND dedup_key = %s AND is_open
RETURNING id, incident_id, occurrences, status_changed, maintenance_window_id
"""


_REPEAT_RULE = "repeat: added an occurrence to the open incident"

# A repeat of an alert that is open, firing and has its incident, with its
# delivery record, as one data-modifying statement: one round trip, and atomic
# without BEGIN/COMMIT. A repeat writes no timeline row: it counts on the alert
# (``repeats``, ``last_repeat_at``), which the timeline shows as one counted line
# per alert, so a storm of repeats leaves the incident page as it was. It changes
# nothing unless the alert is exactly in that state (a new key, a recovery, a
# re-fire after recovery, an alert whose incident is still being opened by another
# request or that is held by a maintenance window: no row), and then the caller
# takes the general path. Under concurrent writers PostgreSQL re-checks the WHERE
# clause on the row's latest version, so a repeat racing a recovery or a close
# finds no row rather than counting against a state that has gone. PostgreSQL
# only: SQLite allows no INSERT or UPDATE inside WITH.
_REPEAT_IN_ONE_STATEMENT = f"""
WITH alert AS (
    UPDATE {_TABLE} SET
        occurrences = occurrences + 1,
        repeats = repeats + 1,
        last_seen_at = %(at)s,
        last_repeat_at = %(at)s,
        last_delivery_id = %(delivery)s::uuid,
        status_changed = FALSE
    WHERE integration_id = %(integration)s AND dedup_key = %(key)s AND is_open
        AND status = 'firing' AND incident_id IS NOT NULL
    RETURNING id, incident_id
), delivery AS (
    INSERT INTO {AlertDelivery._meta.db_table}
        (id, integration_id, received_at, payload, outcomes)
    SELECT %(delivery)s::uuid, %(integration)s, %(at)s, %(payload)s::jsonb,
        jsonb_build_array(jsonb_build_object(
            'dedup_key', %(key)s::text, 'status', 'firing', 'rule', %(rule)s::text,
            'incident', incident_id))
    FROM alert
)
SELECT incident_id FROM alert
"""


# Accepting a new alert: the request writes it (and its delivery) and a worker
# opens, joins or holds its incident right after (``alert_accept``).
_AWAITING_NEW = "new alert: accepted; its incident is opened next"
_AWAITING_REPEAT = "repeat: counted; its incident is opened next"
_AWAITING_RECOVERY = "recovery recorded; applied once its incident is opened"
_AWAITING_RULES = frozenset({_AWAITING_NEW, _AWAITING_REPEAT, _AWAITING_RECOVERY})

# One firing alert, accepted in one data-modifying statement with its delivery:
# a new key is inserted (to wait for a worker), a repeat of a firing alert that
# has its incident or waits for one is counted. Any other state (a re-fire after
# recovery, an alert a maintenance window holds) matches no row and changes
# nothing, and the caller takes the general path. ``xmax = 0`` is PostgreSQL's
# mark of a row this statement inserted rather than updated. PostgreSQL only.
_ACCEPT_IN_ONE_STATEMENT = f"""
WITH alert AS (
    INSERT INTO {_TABLE} AS a (integration_id, dedup_key, status, is_open,
        status_changed, title, occurrences, first_seen_at, last_seen_at, severity,
        labels, annotations, links, group_key, repeats, last_delivery_id,
        description, service_name, started_at)
    VALUES (%(integration)s, %(key)s, 'firing', TRUE, TRUE, %(title)s, 1, %(at)s,
        %(at)s, %(severity)s, %(labels)s::jsonb, %(annotations)s::jsonb,
        %(links)s::jsonb, %(group)s, 0, %(delivery)s::uuid, %(description)s,
        %(service)s, %(started)s)
    ON CONFLICT (integration_id, dedup_key) WHERE is_open DO UPDATE SET
        occurrences = a.occurrences + 1,
        repeats = a.repeats + 1,
        last_seen_at = excluded.last_seen_at,
        last_repeat_at = excluded.last_seen_at,
        last_delivery_id = excluded.last_delivery_id,
        status_changed = FALSE
    WHERE a.status = 'firing'
        AND (a.incident_id IS NOT NULL OR a.maintenance_window_id IS NULL)
    RETURNING id, incident_id, xmax = 0 AS inserted
), delivery AS (
    INSERT INTO {AlertDelivery._meta.db_table}
        (id, integration_id, received_at, payload, outcomes)
    SELECT %(delivery)s::uuid, %(integration)s, %(at)s, %(payload)s::jsonb,
        jsonb_build_array(jsonb_build_object(
            'dedup_key', %(key)s::text, 'status', 'firing', 'incident', incident_id,
            'rule', CASE WHEN incident_id IS NOT NULL THEN %(repeat)s::text
                WHEN inserted THEN %(new)s::text ELSE %(waiting)s::text END))
    FROM alert
)
SELECT incident_id, inserted FROM alert
"""


def _fetch(sql: str, params: list[Any]) -> _Row | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _Row(*row) if row else None


def _occurrence(
    row: _Row, signal: AlertSignal, at: datetime, delivery: str, **data: Any
) -> None:
    IncidentEvent.objects.create(
        incident_id=row.incident_id,
        kind=IncidentEvent.Kind.ALERT_OCCURRENCE,
        at=at,
        data={
            "alert": row.alert_id,
            "name": signal.name,
            "dedup_key": signal.dedup_key,
            "status": signal.status,
            "count": row.occurrences,
            "delivery": delivery,
            **data,
        },
    )


def _outcome(signal: AlertSignal, rule: str, incident_id: int | None) -> dict[str, Any]:
    return {
        "dedup_key": signal.dedup_key,
        "status": signal.status,
        "rule": rule,
        "incident": incident_id,
    }


def _refusal(service: Callable[..., Any], **kwargs: Any) -> str | None:
    """Run a lifecycle service for the system; None if it did what was asked,
    else why the lifecycle refused. The service rolls back to its own savepoint,
    so the delivery is still recorded, with the refusal in its rule."""
    try:
        service(by=None, **kwargs)
    except IncidentConflict as exc:
        return exc.message
    except ValidationError as exc:
        return "; ".join(exc.messages)
    return None


def _service_of(integration: Integration, signal: AlertSignal) -> Service | None:
    service = None
    if signal.service:
        service = Service.objects.filter(name__iexact=signal.service).first()
    return service or integration.default_service


def _open_incident(
    integration: Integration,
    signal: AlertSignal,
    alert_id: int,
    at: datetime,
    service: Service | None,
) -> Incident:
    # A key that fired before, after its incident ended: this one continues it.
    previous = (
        Alert.objects.filter(
            integration=integration, dedup_key=signal.dedup_key, is_open=False
        )
        .exclude(incident=None)
        .order_by("-id")
        .values_list("incident_id", flat=True)
        .first()
    )
    incident = incident_log(
        by=None,
        title=(signal.title or signal.name)[:200],
        description=signal.description,
        source=Incident.Source.ALERT,
        category=integration.default_category,
        services=[service] if service else [],
        impact=integration.default_impact,
        urgency=integration.urgency_for(signal.severity),
        detected_at=min(signal.started_at, at) if signal.started_at else None,
        follows_up=Incident.objects.get(pk=previous) if previous else None,
        signature=alert_signature(integration.pk, signal.dedup_key),
        now=at,
    )
    Alert.objects.filter(pk=alert_id).update(incident=incident)
    return incident


# Incidents a new alert may join: open, not yet resolved.
_JOINABLE = [s for s in Incident.OPEN_STATUSES if s != Incident.Status.RESOLVED]


def _incident_to_join(
    integration: Integration,
    signal: AlertSignal,
    alert_id: int,
    at: datetime,
    service: Service | None,
) -> Incident | None:
    """The open incident a new alert joins under its integration's grouping, if
    any. The integration's row is locked first (``_alert_ingest_each``), so two
    new alerts of one group never both open an incident."""
    mode = integration.grouping
    if mode == Integration.Grouping.SENDER_GROUP and signal.group_key:
        found = (
            Alert.objects.filter(
                integration=integration,
                group_key=signal.group_key,
                is_open=True,
                incident__status__in=_JOINABLE,
            )
            .exclude(pk=alert_id)
            .order_by("-id")
            .values_list("incident_id", flat=True)
            .first()
        )
        return Incident.objects.get(pk=found) if found else None
    if mode == Integration.Grouping.SERVICE and service is not None:
        since = at - timedelta(minutes=integration.group_within_minutes)
        return (
            Incident.objects.filter(
                services=service, status__in=_JOINABLE, logged_at__gte=since
            )
            .order_by("-logged_at", "-id")
            .first()
        )
    return None


def _ingest_firing(
    integration: Integration,
    signal: AlertSignal,
    at: datetime,
    delivery: str,
    place: bool,
) -> dict:
    row = _fetch(
        _UPSERT_FIRING,
        [
            integration.pk,
            signal.dedup_key,
            (signal.title or signal.name)[:200],
            at,
            at,
            signal.severity[:32],
            json.dumps(signal.labels),
            json.dumps(signal.annotations),
            json.dumps(signal.links),
            signal.group_key[:255],
            delivery,
            signal.description,
            signal.service[:100],
            signal.started_at,
        ],
    )
    if row.incident_id is None:
        if not place:
            return _await_placement(integration, signal, row, at)
        return _place_new_alert(
            integration, signal, row.alert_id, at, delivery, row.occurrences
        )
    if row.status_changed:
        incident = locked(row.incident_id)
        if incident.status == Incident.Status.RESOLVED:
            refused = _refusal(
                incident_reopen,
                incident=incident,
                reason=f"{signal.name} fired again.",
                now=at,
            )
            rule = "fired again after recovery: reopened the resolved incident"
            if refused:
                rule = f"fired again after recovery: not reopened: {refused}"
        else:
            rule = "fired again after recovery: added to the open incident"
        _occurrence(row, signal, at, delivery, rule=rule)
        return _outcome(signal, rule, row.incident_id)
    # A repeat: counted on the alert, no timeline row of its own.
    return _outcome(signal, _REPEAT_RULE, row.incident_id)


def _suppressed(
    signal: AlertSignal, service: Service, window: MaintenanceWindow
) -> dict:
    return _outcome(
        signal,
        f"suppressed: {service.name} is under maintenance until "
        f"{window.ends_at.isoformat()}: recorded, no incident, nobody paged",
        None,
    )


def _await_placement(
    integration: Integration, signal: AlertSignal, row: _Row, at: datetime
) -> dict:
    """A firing alert with no incident, accepted: it waits for a worker, unless a
    maintenance window still holds it (one that has ended lets it go)."""
    if row.maintenance_window_id is not None:
        service = _service_of(integration, signal)
        window = _held_by(service, at)
        if window is not None:
            Alert.objects.filter(pk=row.alert_id).update(maintenance_window=window)
            return _suppressed(signal, service, window)
        Alert.objects.filter(pk=row.alert_id).update(maintenance_window=None)
    rule = _AWAITING_NEW if row.occurrences == 1 else _AWAITING_REPEAT
    return _outcome(signal, rule, None)


def _place_new_alert(
    integration: Integration,
    signal: AlertSignal,
    alert_id: int,
    at: datetime,
    delivery: str,
    occurrences: int = 1,
) -> dict:
    """A firing alert with no incident yet: held by a maintenance window of its
    service, joined to an open incident by its integration's grouping, or the
    start of a new incident."""
    service = _service_of(integration, signal)
    if service is not None:
        window = _held_by(service, at)
        if window is not None:
            Alert.objects.filter(pk=alert_id).update(maintenance_window=window)
            return _suppressed(signal, service, window)
    Alert.objects.filter(pk=alert_id).update(maintenance_window=None)
    row = _Row(alert_id, None, occurrences, True)
    joined = _incident_to_join(integration, signal, alert_id, at, service)
    if joined is not None:
        Alert.objects.filter(pk=alert_id).update(incident=joined)
        rule = f"new alert: grouped into {joined.number}"
        _occurrence(
            row._replace(incident_id=joined.pk), signal, at, delivery, rule=rule
        )
        return _outcome(signal, rule, joined.pk)
    incident = _open_incident(integration, signal, alert_id, at, service)
    rule = "new alert: opened an incident"
    if incident.follows_up_id:
        rule = "fired again after its incident ended: opened a follow-up incident"
    _occurrence(row._replace(incident_id=incident.pk), signal, at, delivery, rule=rule)
    return _outcome(signal, rule, incident.pk)


def _recovery_rule(
    integration: Integration, signal: AlertSignal, incident: Incident, at: datetime
) -> str:
    """Apply the integration's recovery mode to the incident of a recovered
    alert, through the lifecycle, as the system; the rule that says what it did."""
    mode = integration.recovery
    if mode == Integration.Recovery.RECORD:
        return "recovery recorded"
    if incident.status not in _JOINABLE:
        return (
            f"recovery recorded: the incident is {incident.get_status_display()}"
            ", so it stays for an agent to resolve"
        )
    firing = (
        Alert.objects.filter(incident=incident, is_open=True)
        .exclude(status=Alert.Status.RESOLVED)
        .count()
    )
    if firing:
        return (
            f"recovery recorded: {firing} other alert(s) of the incident still firing"
        )
    if mode == Integration.Recovery.UNACKNOWLEDGED and incident.acknowledged_at:
        return (
            "recovery recorded: someone acknowledged the incident, so it stays "
            "for an agent to resolve"
        )
    refused = _refusal(
        incident_resolve,
        incident=incident,
        resolution_kind=Incident.ResolutionKind.WORKAROUND,
        resolution=f"Monitoring reported recovery of {signal.name}; every alert "
        "of the incident has recovered.",
        verification=f"Monitoring reported recovery of {signal.name} "
        f"({integration.name}, {at.isoformat()}).",
        now=at,
    )
    if refused:
        return f"recovery recorded: the incident was not resolved: {refused}"
    return "recovery recorded: resolved the incident"


def _ingest_resolved(
    integration: Integration,
    signal: AlertSignal,
    at: datetime,
    delivery: str,
    place: bool,
) -> dict:
    row = _fetch(
        _RECORD_RECOVERY, [at, at, at, delivery, integration.pk, signal.dedup_key]
    )
    if row is None:
        return _outcome(
            signal, "ignored: recovery of an alert with no open incident", None
        )
    if row.incident_id is None and row.maintenance_window_id is not None:
        return _outcome(signal, "recovery recorded (under maintenance)", None)
    if row.incident_id is None:
        # Accepted, and no worker has opened its incident yet: the recovery waits
        # on the alert's row, and is applied right after the incident opens.
        if not place:
            return _outcome(signal, _AWAITING_RECOVERY, None)
        alert = Alert.objects.select_related("integration").get(pk=row.alert_id)
        return alert_place(alert)
    if not row.status_changed:
        return _outcome(signal, "repeat: recovery already recorded", row.incident_id)
    rule = _recovery_rule(integration, signal, locked(row.incident_id), at)
    _occurrence(row, signal, at, delivery, rule=rule)
    return _outcome(signal, rule, row.incident_id)


def _ingest_acknowledged(
    integration: Integration,
    signal: AlertSignal,
    at: datetime,
    delivery: str,
    place: bool,
) -> dict:
    row = _fetch(_RECORD_ACK, [at, at, at, delivery, integration.pk, signal.dedup_key])
    if row is None:
        return _outcome(signal, "ignored: acknowledgement of no open alert", None)
    if row.incident_id is None or not row.status_changed:
        return _outcome(signal, "acknowledgement recorded", row.incident_id)
    rule = "acknowledgement recorded"
    _occurrence(row, signal, at, delivery, rule=rule)
    return _outcome(signal, rule, row.incident_id)


_HANDLERS = {
    Alert.Status.FIRING: _ingest_firing,
    Alert.Status.RESOLVED: _ingest_resolved,
    "acknowledged": _ingest_acknowledged,
}


def _repeat_in_one_statement(
    integration: Integration, signal: AlertSignal, payload: Any, at: datetime
) -> AlertDelivery | None:
    """The delivery of one repeat of an open firing alert, written in one
    statement; None (and nothing written) when the alert is in any other state."""
    delivery_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            _REPEAT_IN_ONE_STATEMENT,
            {
                "at": at,
                "integration": integration.pk,
                "key": signal.dedup_key,
                "delivery": str(delivery_id),
                "rule": _REPEAT_RULE,
                # As JSONField stores it: json.dumps with the default encoder.
                "payload": json.dumps(payload),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return _delivery_written(
        delivery_id, integration, at, payload, _outcome(signal, _REPEAT_RULE, row[0])
    )


@retried
def alert_ingest(
    *,
    integration: Integration,
    signals: list[AlertSignal],
    payload: Any,
    now: datetime | None = None,
) -> AlertDelivery:
    """Take one delivery from an integration and do all it asks before returning:
    each firing alert opens an incident (or joins or is held, by its
    integration's grouping and maintenance windows) or adds an occurrence to its
    open one (reopening it if it had been resolved), each resolved alert records
    the recovery (and resolves the incident if the integration says so). The raw
    payload is kept with what happened to every alert in it. The intake
    endpoints use ``alert_accept``, which leaves the opening to a worker."""
    at = now_or(now)
    if (
        connection.vendor == "postgresql"
        and len(signals) == 1
        and signals[0].status == Alert.Status.FIRING
    ):
        # The most frequent delivery by far: a monitor repeating an open alert.
        delivery = _repeat_in_one_statement(integration, signals[0], payload, at)
        if delivery is not None:
            return delivery
    return _alert_ingest_each(
        integration=integration, signals=signals, payload=payload, at=at, place=True
    )


@retried
def alert_accept(
    *,
    integration: Integration,
    signals: list[AlertSignal],
    payload: Any,
    now: datetime | None = None,
) -> AlertDelivery:
    """Take one delivery as ``alert_ingest`` does, except that a new alert is only
    written, durably, with the delivery: a worker opens, joins or holds its
    incident right after the commit (``alert_placement.alerts_place_awaiting``),
    and a sweep does it for any alert whose request to a worker was lost, so a
    broker outage delays incidents but loses none. Repeats, recoveries, re-fires
    and acknowledgements of alerts that have their incident are applied now, in
    the order they arrive; a recovery of an alert still waiting is recorded on
    the alert and applied once its incident is opened."""
    at = now_or(now)
    delivery = None
    if (
        connection.vendor == "postgresql"
        and len(signals) == 1
        and signals[0].status == Alert.Status.FIRING
    ):
        # A new alert, or a repeat: one statement, no transaction.
        delivery = _accept_in_one_statement(integration, signals[0], payload, at)
    if delivery is None:
        delivery = _alert_ingest_each(
            integration=integration,
            signals=signals,
            payload=payload,
            at=at,
            place=False,
        )
    if any(outcome["rule"] in _AWAITING_RULES for outcome in delivery.outcomes):
        transaction.on_commit(placement_ask)
    return delivery


def _delivery_written(
    delivery_id: uuid.UUID,
    integration: Integration,
    at: datetime,
    payload: Any,
    outcome: dict[str, Any],
) -> AlertDelivery:
    """The delivery a single statement wrote, as if loaded."""
    delivery = AlertDelivery(
        id=delivery_id,
        integration=integration,
        received_at=at,
        payload=payload,
        outcomes=[outcome],
    )
    delivery._state.adding = False
    delivery._state.db = connection.alias
    return delivery


def _accept_in_one_statement(
    integration: Integration, signal: AlertSignal, payload: Any, at: datetime
) -> AlertDelivery | None:
    """The delivery of one firing alert, new or a repeat, in one statement; None
    (and nothing written) when the alert is in any other state."""
    delivery_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            _ACCEPT_IN_ONE_STATEMENT,
            {
                "at": at,
                "integration": integration.pk,
                "key": signal.dedup_key,
                "title": (signal.title or signal.name)[:200],
                "severity": signal.severity[:32],
                "labels": json.dumps(signal.labels),
                "annotations": json.dumps(signal.annotations),
                "links": json.dumps(signal.links),
                "group": signal.group_key[:255],
                "delivery": str(delivery_id),
                "description": signal.description,
                "service": signal.service[:100],
                "started": signal.started_at,
                "payload": json.dumps(payload),
                "repeat": _REPEAT_RULE,
                "new": _AWAITING_NEW,
                "waiting": _AWAITING_REPEAT,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    incident_id, inserted = row
    if incident_id is not None:
        rule = _REPEAT_RULE
    else:
        rule = _AWAITING_NEW if inserted else _AWAITING_REPEAT
    return _delivery_written(
        delivery_id, integration, at, payload, _outcome(signal, rule, incident_id)
    )


# The worker that opens accepted alerts' incidents is asked once per batch: the
# first request to add this key sends the task; later ones, until the worker
# takes the key away to start a pass, know that pass will see their alerts.
PLACEMENT_ASKED = "alerts:placement-asked"
PLACEMENT_TASK = "incidents.tasks.alert_placement_task"


def placement_ask() -> None:
    """After the commit of an accepted alert: ask a worker to open its incident,
    unless one is asked already and has not started its pass. Never fails the
    request: the alert's row is the guarantee, and the placement sweep finds it
    if the broker or the cache cannot be reached."""
    try:
        if not cache.add(
            PLACEMENT_ASKED, 1, timeout=settings.ALERT_PLACEMENT_ASK_SECONDS
        ):
            return
    except Exception:  # noqa: BLE001 - the sweep is the fallback
        logger.warning("cache unavailable; accepted alerts wait for the sweep")
        return
    try:
        send_task_by_name(PLACEMENT_TASK)
    except Exception:  # noqa: BLE001 - the sweep is the fallback
        logger.warning("broker unavailable; accepted alerts wait for the sweep")
        with contextlib.suppress(Exception):
            cache.delete(PLACEMENT_ASKED)


def alert_place(alert: Alert) -> dict[str, Any]:
    """Open, join or hold the incident of an accepted alert that has none, as the
    request would have at its acceptance (the SLA clocks start then); a recovery
    that came in before is then applied as any recovery is. The caller holds the
    alert's row lock (and its integration's, when the integration groups)."""
    integration = alert.integration
    signal = _signal_of(alert)
    delivery = str(alert.last_delivery_id or "")
    outcome = _place_new_alert(
        integration, signal, alert.pk, alert.first_seen_at, delivery, alert.occurrences
    )
    if outcome["incident"] is not None and alert.status == Alert.Status.RESOLVED:
        recovered = alert.recovered_at or alert.last_seen_at
        recovery = replace(signal, status=Alert.Status.RESOLVED)
        rule = _recovery_rule(
            integration, recovery, locked(outcome["incident"]), recovered
        )
        row = _Row(alert.pk, outcome["incident"], alert.occurrences, True)
        _occurrence(row, recovery, recovered, delivery, rule=rule)
        outcome = _outcome(recovery, rule, outcome["incident"])
    Alert.objects.filter(pk=alert.pk).update(placed_at=timezone.now())
    return outcome


@transaction.atomic
def _alert_ingest_each(
    *,
    integration: Integration,
    signals: list[AlertSignal],
    payload: Any,
    at: datetime,
    place: bool,
) -> AlertDelivery:
    """Every signal through its handler, in one transaction, then the delivery.
    The signals are handled in the order of their keys, so that every delivery
    locks the alerts it shares with another in the same order; the outcomes are
    recorded in the delivery's own order. With ``place`` false, new alerts are
    left for a worker (``alert_accept``)."""
    delivery_id = uuid.uuid4()
    outcomes: list[dict[str, Any]] = [{}] * len(signals)
    if place and integration.grouping != Integration.Grouping.ALERT:
        # Before any alert: every delivery that may open or join a grouped
        # incident takes the same first lock, so no two open one each (the
        # worker that places accepted alerts takes it first too).
        Integration.objects.select_for_update().filter(pk=integration.pk).exists()
    for n in sorted(range(len(signals)), key=lambda n: signals[n].dedup_key):
        signal = signals[n]
        outcomes[n] = _HANDLERS[signal.status](
            integration, signal, at, str(delivery_id), place
        )
    return AlertDelivery.objects.create(
        id=delivery_id,
        integration=integration,
        received_at=at,
        payload=payload,
        outcomes=outcomes,
    )


@transaction.atomic
def integration_create(
    *, name: str, kind: str, **defaults: Any
) -> tuple[Integration, str]:
    """Create an integration; returns it with its token, which is shown only now
    (only its hash is stored)."""
    token = token_generate()
    integration = Integration(
        name=name,
        kind=kind,
        token_hash=token_hash(token),
        token_hint=token[-4:],
        **defaults,
    )
    integration.full_clean()
    integration.save()
    return integration, token


def _signal_of(alert: Alert) -> AlertSignal:
    """The firing signal that made an alert, from what the alert keeps (for the
    worker that places it, and for the sweep that lets a window's alerts go)."""
    return AlertSignal(
        dedup_key=alert.dedup_key,
        status=Alert.Status.FIRING,
        title=alert.title,
        description=alert.description or alert.annotations.get("description", ""),
        severity=alert.severity,
        service=alert.service_name or alert.labels.get("service", ""),
        started_at=alert.started_at or alert.first_seen_at,
        labels=alert.labels,
        annotations=alert.annotations,
        links=alert.links,
        group_key=alert.group_key,
    )


def maintenance_sweep(*, now: datetime | None = None) -> int:
    """Alerts that a maintenance window held and that are still firing once it
    has ended (or was cancelled) open their incidents as usual (or join one, or
    stay held by a later window). Each alert in its own transaction, claimed
    with SKIP LOCKED, so two sweeps never open one twice. Returns how many
    alerts it placed."""
    at = now_or(now)
    placed = 0
    held = (
        Alert.objects.filter(
            is_open=True,
            status=Alert.Status.FIRING,
            incident=None,
            maintenance_window__isnull=False,
        )
        .filter(
            Q(maintenance_window__ends_at__lte=at)
            | Q(maintenance_window__cancelled_at__isnull=False)
        )
        .values_list("pk", flat=True)
    )
    for pk in list(held[:500]):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(skip_locked=True)
                .select_related("integration")
                .filter(pk=pk, incident=None, is_open=True)
                .first()
            )
            if alert is None:
                continue
            outcome = _place_new_alert(
                alert.integration,
                _signal_of(alert),
                alert.pk,
                at,
                "",
                alert.occurrences,
            )
            placed += outcome["incident"] is not None
    return placed


@dataclass(frozen=True)
class PreviewedAlert:
    """What one alert of a pasted payload would do (the test page)."""

    signal: AlertSignal
    outcome: str


def _held_by(service: Service | None, at: datetime) -> MaintenanceWindow | None:
    if service is None:
        return None
    return (
        MaintenanceWindow.objects.in_progress(at=at)
        .filter(services=service)
        .order_by("ends_at")
        .first()
    )


def alert_preview(
    *, integration: Integration, signals: list[AlertSignal], now: datetime | None = None
) -> list[PreviewedAlert]:
    """What a delivery of ``signals`` would do now, by the same rules as
    ``alert_ingest`` (maintenance, grouping, recovery), without writing or
    locking anything: a read, for the "test this integration" page."""
    at = now_or(now)
    previews = []
    for signal in signals:
        alert = (
            Alert.objects.filter(
                integration=integration, dedup_key=signal.dedup_key, is_open=True
            )
            .select_related("incident")
            .first()
        )
        incident = alert.incident if alert else None
        if signal.status == Alert.Status.FIRING:
            if incident is None:
                service = _service_of(integration, signal)
                window = _held_by(service, at)
                joined = _incident_to_join(
                    integration, signal, alert.pk if alert else 0, at, service
                )
                if window is not None:
                    outcome = (
                        f"suppressed by the maintenance window of {service.name} "
                        f"until {window.ends_at:%Y-%m-%d %H:%M}: recorded, no "
                        "incident, nobody paged"
                    )
                elif joined is not None:
                    outcome = f"grouped into {joined.number}"
                else:
                    outcome = "opens a new incident"
            elif alert.status == Alert.Status.RESOLVED:
                outcome = (
                    f"fired again after recovery: reopens {incident.number}"
                    if incident.status == Incident.Status.RESOLVED
                    else f"fired again after recovery: added to {incident.number}"
                )
            else:
                outcome = f"repeat: adds an occurrence to {incident.number}"
        elif alert is None:
            outcome = "ignored: no open alert with this key"
        elif signal.status == Alert.Status.RESOLVED:
            target = incident.number if incident else "no incident (maintenance)"
            outcome = (
                f"records the recovery on {target}; then: "
                f"{integration.get_recovery_display().lower()}"
            )
        else:
            outcome = "records the acknowledgement"
        previews.append(PreviewedAlert(signal, outcome))
    return previews
