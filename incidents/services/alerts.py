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

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from incidents.exceptions import IncidentConflict
from incidents.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEvent,
    Integration,
    Service,
)
from incidents.models.alerts import token_generate, token_hash
from incidents.services._base import locked, now_or
from incidents.services.intake import incident_log
from incidents.services.lifecycle import incident_reopen, incident_resolve
from incidents.services.retry import retried
from incidents.signatures import alert_signature


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


class _Row(NamedTuple):
    alert_id: int
    incident_id: int | None
    occurrences: int
    status_changed: bool


_TABLE = Alert._meta.db_table

# Both PostgreSQL and SQLite (3.35+) take this: the conflict target names the
# partial unique index "alert_one_open_per_key".
_UPSERT_FIRING = f"""
INSERT INTO {_TABLE} (integration_id, dedup_key, status, is_open, status_changed,
                      title, occurrences, first_seen_at, last_seen_at)
VALUES (%s, %s, 'firing', TRUE, TRUE, %s, 1, %s, %s)
ON CONFLICT (integration_id, dedup_key) WHERE is_open DO UPDATE SET
    occurrences = {_TABLE}.occurrences + 1,
    last_seen_at = excluded.last_seen_at,
    status_changed = ({_TABLE}.status <> 'firing'),
    status = 'firing'
RETURNING id, incident_id, occurrences, status_changed
"""

_RECORD_RECOVERY = f"""
UPDATE {_TABLE} SET
    occurrences = occurrences + 1,
    last_seen_at = %s,
    recovered_at = %s,
    status_changed = (status <> 'resolved'),
    status = 'resolved'
WHERE integration_id = %s AND dedup_key = %s AND is_open
RETURNING id, incident_id, occurrences, status_changed
"""

_RECORD_ACK = f"""
UPDATE {_TABLE} SET occurrences = occurrences + 1, last_seen_at = %s,
    status_changed = FALSE
WHERE integration_id = %s AND dedup_key = %s AND is_open
RETURNING id, incident_id, occurrences, status_changed
"""


_REPEAT_RULE = "repeat: added an occurrence to the open incident"

# A repeat of an alert that is open, firing and has its incident, with its timeline
# row and its delivery record, as one data-modifying statement: one round trip, and
# atomic without BEGIN/COMMIT. It changes nothing unless the alert is exactly in
# that state (a new key, a recovery, a re-fire after recovery, an alert whose
# incident is still being opened by another request: no row), and then the caller
# takes the general path. Under concurrent writers PostgreSQL re-checks the WHERE
# clause on the row's latest version, so a repeat racing a recovery or a close
# finds no row rather than counting against a state that has gone. PostgreSQL
# only: SQLite allows no INSERT or UPDATE inside WITH.
_REPEAT_IN_ONE_STATEMENT = f"""
WITH alert AS (
    UPDATE {_TABLE} SET
        occurrences = occurrences + 1,
        last_seen_at = %(at)s,
        status_changed = FALSE
    WHERE integration_id = %(integration)s AND dedup_key = %(key)s AND is_open
        AND status = 'firing' AND incident_id IS NOT NULL
    RETURNING id, incident_id, occurrences
), occurrence AS (
    INSERT INTO {IncidentEvent._meta.db_table} (incident_id, kind, actor_id, at, data)
    SELECT incident_id, %(kind)s, NULL, %(at)s, jsonb_build_object(
        'alert', id, 'dedup_key', %(key)s::text, 'status', 'firing',
        'count', occurrences, 'delivery', %(delivery)s::text, 'rule', %(rule)s::text)
    FROM alert
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


def _open_incident(
    integration: Integration, signal: AlertSignal, row: _Row, at: datetime
) -> Incident:
    service = None
    if signal.service:
        service = Service.objects.filter(name__iexact=signal.service).first()
    service = service or integration.default_service
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
        title=(signal.title or signal.dedup_key)[:200],
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
    Alert.objects.filter(pk=row.alert_id).update(incident=incident)
    return incident


def _ingest_firing(
    integration: Integration, signal: AlertSignal, at: datetime, delivery: str
) -> dict:
    row = _fetch(
        _UPSERT_FIRING,
        [
            integration.pk,
            signal.dedup_key,
            (signal.title or signal.dedup_key)[:200],
            at,
            at,
        ],
    )
    if row.incident_id is None:
        incident = _open_incident(integration, signal, row, at)
        rule = "new alert: opened an incident"
        if incident.follows_up_id:
            rule = "fired again after its incident ended: opened a follow-up incident"
        _occurrence(
            row._replace(incident_id=incident.pk), signal, at, delivery, rule=rule
        )
        return _outcome(signal, rule, incident.pk)
    if row.status_changed:
        incident = locked(row.incident_id)
        if incident.status == Incident.Status.RESOLVED:
            refused = _refusal(
                incident_reopen,
                incident=incident,
                reason="The alert fired again.",
                now=at,
            )
            rule = "fired again after recovery: reopened the resolved incident"
            if refused:
                rule = f"fired again after recovery: not reopened: {refused}"
        else:
            rule = "fired again after recovery: added to the open incident"
    else:
        rule = _REPEAT_RULE
    _occurrence(row, signal, at, delivery, rule=rule)
    return _outcome(signal, rule, row.incident_id)


def _ingest_resolved(
    integration: Integration, signal: AlertSignal, at: datetime, delivery: str
) -> dict:
    row = _fetch(_RECORD_RECOVERY, [at, at, integration.pk, signal.dedup_key])
    if row is None:
        return _outcome(
            signal, "ignored: recovery of an alert with no open incident", None
        )
    rule = "recovery recorded"
    if row.status_changed and integration.resolve_on_recovery:
        incident = locked(row.incident_id)
        if incident.status in (
            Incident.Status.INVESTIGATING,
            Incident.Status.AWAITING_REQUESTER,
        ):
            refused = _refusal(
                incident_resolve,
                incident=incident,
                resolution_kind=Incident.ResolutionKind.WORKAROUND,
                resolution=f"Monitoring reported recovery of {signal.dedup_key}.",
                verification=f"{integration.name} sent 'resolved' at {at.isoformat()}.",
                now=at,
            )
            rule = "recovery recorded: resolved the incident"
            if refused:
                rule = f"recovery recorded: the incident was not resolved: {refused}"
        else:
            rule = (
                f"recovery recorded: the incident is {incident.get_status_display()}"
                ", so it stays for an agent to resolve"
            )
    _occurrence(row, signal, at, delivery, rule=rule)
    return _outcome(signal, rule, row.incident_id)


def _ingest_acknowledged(
    integration: Integration, signal: AlertSignal, at: datetime, delivery: str
) -> dict:
    row = _fetch(_RECORD_ACK, [at, integration.pk, signal.dedup_key])
    if row is None:
        return _outcome(signal, "ignored: acknowledgement of no open alert", None)
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
                "kind": IncidentEvent.Kind.ALERT_OCCURRENCE.value,
                "delivery": str(delivery_id),
                "rule": _REPEAT_RULE,
                # As JSONField stores it: json.dumps with the default encoder.
                "payload": json.dumps(payload),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    delivery = AlertDelivery(
        id=delivery_id,
        integration=integration,
        received_at=at,
        payload=payload,
        outcomes=[_outcome(signal, _REPEAT_RULE, row[0])],
    )
    delivery._state.adding = False  # it is in the database, as if loaded
    delivery._state.db = connection.alias
    return delivery


@retried
def alert_ingest(
    *,
    integration: Integration,
    signals: list[AlertSignal],
    payload: Any,
    now: datetime | None = None,
) -> AlertDelivery:
    """Take one delivery from an integration: each firing alert opens an incident or
    adds an occurrence to its open one (reopening it if it had been resolved), each
    resolved alert records the recovery (and resolves the incident if the
    integration says so and work has started). The raw payload is kept with what
    happened to every alert in it."""
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
        integration=integration, signals=signals, payload=payload, at=at
    )


@transaction.atomic
def _alert_ingest_each(
    *,
    integration: Integration,
    signals: list[AlertSignal],
    payload: Any,
    at: datetime,
) -> AlertDelivery:
    """Every signal through its handler, in one transaction, then the delivery.
    The signals are handled in the order of their keys, so that every delivery
    locks the alerts it shares with another in the same order; the outcomes are
    recorded in the delivery's own order."""
    delivery_id = uuid.uuid4()
    outcomes: list[dict[str, Any]] = [{}] * len(signals)
    for n in sorted(range(len(signals)), key=lambda n: signals[n].dedup_key):
        signal = signals[n]
        outcomes[n] = _HANDLERS[signal.status](
            integration, signal, at, str(delivery_id)
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
