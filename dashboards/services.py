"""Keeping the rollups current, and the digest subscription.

``rollup_refresh`` runs from beat every ``DASHBOARDS_REFRESH_SECONDS``. It takes
up again every incident that has a new timeline entry (every incident service
writes one, and so does every alert occurrence and every sweep action) and every
incident whose share changes by itself now (a due time or an age bucket reached,
``IncidentFact.next_change_at``), computes its share afresh
(``dashboards.facts``), and applies the difference to the rollups. A share is
replaced whole, so taking an incident up twice changes nothing: the refresh is
safe to run twice, and one run at a time holds the state row's lock (a second
one finds it taken and returns).

The timeline is read from a checkpoint at least ``SETTLE`` old: an entry written
by a transaction that was still open at the last run has an id below the highest
one seen then, and is seen the next time.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dashboards.access import may_read_dashboards
from dashboards.facts import (
    INCIDENT_FIELDS,
    Contributions,
    IncidentInputs,
    Shares,
    contributions,
)
from dashboards.models import (
    DAILY_COUNTERS,
    NOW_COUNTERS,
    SIGNATURE_COUNTERS,
    DailyRollup,
    DigestSubscription,
    IncidentFact,
    NowRollup,
    RollupState,
    SignatureRollup,
)
from incidents.models import Alert, Incident, IncidentEvent, SlaSpan
from incidents.sla.clock import Span
from incidents.sla.policies import sla_policies
from reviews.models import ReviewMilestone
from reviews.selectors import corrected_milestones

logger = logging.getLogger(__name__)

# How long a transaction may stay open and still have its timeline entries seen.
SETTLE = timedelta(minutes=2)
BATCH = 500


@dataclass(frozen=True)
class RefreshResult:
    refreshed: bool  # False: another refresh was running
    incidents: int = 0


def _state() -> RollupState | None:
    """The state row, locked for this transaction; None if another refresh holds
    it (PostgreSQL; SQLite runs one writer at a time anyway)."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update(skip_locked=True).filter(pk=1).first()


def _scan_from(state: RollupState, now: datetime) -> int:
    """The highest timeline id read at the newest checkpoint at least ``SETTLE``
    old (0: read all)."""
    settled = [
        last
        for at, last in state.checkpoints
        if datetime.fromisoformat(at) <= now - SETTLE
    ]
    return max(settled, default=0)


def _checkpoint(state: RollupState, now: datetime, last: int) -> None:
    """Keep the new checkpoint, the newest settled one, and those still settling."""
    keep = [[now.isoformat(), last]]
    settled = None
    for at, seen in sorted(state.checkpoints, reverse=True):
        if datetime.fromisoformat(at) > now - SETTLE:
            keep.append([at, seen])
        elif settled is None:
            settled = [at, seen]
    state.checkpoints = sorted(keep + ([settled] if settled else []))


def rollup_refresh(*, now: datetime | None = None) -> RefreshResult:
    """Bring the rollups up to date as of ``now``."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state()
        if state is None:
            return RefreshResult(refreshed=False)
        start = _scan_from(state, now)
        last = IncidentEvent.objects.aggregate(last=Max("id"))["last"] or 0
        changed = set(
            IncidentEvent.objects.filter(id__gt=start, id__lte=last)
            .values_list("incident_id", flat=True)
            .distinct()
        )
        changed |= set(
            IncidentFact.objects.filter(next_change_at__lte=now).values_list(
                "pk", flat=True
            )
        )
        # A review's corrected milestone changes the times, not the timeline.
        if state.refreshed_at is not None:
            changed |= milestones_edited_since(state.refreshed_at - SETTLE)
        facts_recompute(sorted(changed), now=now)
        _checkpoint(state, now, last)
        state.refreshed_at = now
        state.token = uuid.uuid4().hex
        state.save()
    return RefreshResult(refreshed=True, incidents=len(changed))


def rollup_rebuild(*, now: datetime | None = None) -> int:
    """Compute every incident's share from scratch (after a restore, or when the
    definitions change); one transaction per batch, each holding the state row
    like a refresh. Returns how many incidents were taken up."""
    now = now or timezone.now()
    with transaction.atomic():
        RollupState.objects.get_or_create(pk=1)
        state = RollupState.objects.select_for_update().get(pk=1)
        for model in (IncidentFact, DailyRollup, NowRollup, SignatureRollup):
            model.objects.all().delete()
        last = IncidentEvent.objects.aggregate(last=Max("id"))["last"] or 0
        # The refresh goes on from here; what is written meanwhile it reads.
        state.checkpoints = [[(now - SETTLE).isoformat(), last]]
        state.refreshed_at = now
        state.save()
    # Every batch changes the rollups: what was cached from them is forgotten
    # once the last one is written.
    ids = Incident.objects.order_by("pk").values_list("pk", flat=True)
    count, after = 0, 0
    while batch := list(ids.filter(pk__gt=after)[:BATCH]):
        with transaction.atomic():
            RollupState.objects.select_for_update().get(pk=1)
            _recompute_batch(batch, now=now)
        count += len(batch)
        after = batch[-1]
    RollupState.objects.filter(pk=1).update(token=uuid.uuid4().hex)
    return count


def milestones_edited_since(since: datetime) -> set[int]:
    """The incidents whose milestones a review corrected at or after ``since``."""
    return set(
        ReviewMilestone.objects.filter(edited_at__gte=since).values_list(
            "incident_id", flat=True
        )
    )


def _chunks(ids: list[int], size: int = BATCH) -> Iterator[list[int]]:
    for index in range(0, len(ids), size):
        yield ids[index : index + size]


def facts_recompute(ids: Iterable[int], *, now: datetime) -> None:
    """Compute these incidents' shares afresh and apply the differences (callers
    hold the state row)."""
    for batch in _chunks(list(ids)):
        _recompute_batch(batch, now=now)


def _inputs(ids: list[int]) -> dict[int, IncidentInputs]:
    """Everything the facts of these incidents are computed from, in six
    queries."""
    rows = {
        row["id"]: row
        for row in Incident.objects.filter(pk__in=ids).values(*INCIDENT_FIELDS)
    }
    services: dict[int, list[int]] = {}
    for incident_id, service_id in Incident.services.through.objects.filter(
        incident_id__in=ids
    ).values_list("incident_id", "service_id"):
        services.setdefault(incident_id, []).append(service_id)
    spans: dict[tuple[int, str], list[Span]] = {}
    for incident_id, clock, start, end, paused in (
        SlaSpan.objects.filter(incident_id__in=ids)
        .order_by("incident_id", "start", "id")
        .values_list("incident_id", "clock", "start", "end", "paused")
    ):
        spans.setdefault((incident_id, clock), []).append(Span(start, end, paused))
    alerts: dict[int, list[tuple[str, int]]] = {}
    for incident_id, integration, title, occurrences in Alert.objects.filter(
        incident_id__in=ids
    ).values_list("incident_id", "integration__name", "title", "occurrences"):
        signature = f"{integration}: {title}"[:220]
        alerts.setdefault(incident_id, []).append((signature, occurrences))
    updates: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for incident_id, at, data in IncidentEvent.objects.filter(
        incident_id__in=ids, kind=IncidentEvent.Kind.STAKEHOLDER_UPDATE
    ).values_list("incident_id", "at", "data"):
        due = (data or {}).get("due")
        updates.setdefault(incident_id, []).append(
            (at, datetime.fromisoformat(due) if due else None)
        )
    corrected = corrected_milestones(ids)
    return {
        pk: IncidentInputs(
            row=row,
            corrected=corrected.get(pk),
            services=services.get(pk, ()),
            response=spans.get((pk, SlaSpan.Clock.RESPONSE), ()),
            resolution=spans.get((pk, SlaSpan.Clock.RESOLUTION), ()),
            alerts=alerts.get(pk, ()),
            updates=updates.get(pk, ()),
        )
        for pk, row in rows.items()
    }


def _recompute_batch(ids: list[int], *, now: datetime) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    policies = sla_policies()
    inputs = _inputs(ids)
    old_facts = IncidentFact.objects.in_bulk(ids)
    deltas = Contributions()
    new_facts, changed_facts = [], []
    for pk in ids:
        old = old_facts.get(pk)
        before = Contributions.from_json(old.contributions) if old else Contributions()
        if pk in inputs:
            after = contributions(inputs[pk], policies=policies, now=now, tz=tz)
        else:
            after = Contributions()  # the incident is gone: take its share back
        for name in ("daily", "now", "signatures"):
            _merge(getattr(deltas, name), getattr(after, name), 1)
            _merge(getattr(deltas, name), getattr(before, name), -1)
        if pk not in inputs:
            continue
        fact = old or IncidentFact(incident_id=pk)
        fact.contributions = after.as_json()
        fact.next_change_at = after.next_change_at
        fact.computed_at = now
        (changed_facts if old else new_facts).append(fact)
    IncidentFact.objects.bulk_create(new_facts)
    IncidentFact.objects.bulk_update(
        changed_facts, ["contributions", "next_change_at", "computed_at"]
    )
    _apply(DailyRollup, DAILY_COUNTERS, deltas.daily, day_keyed=True)
    _apply(NowRollup, NOW_COUNTERS, deltas.now, day_keyed=False)
    _apply(SignatureRollup, SIGNATURE_COUNTERS, deltas.signatures, day_keyed=True)


def _merge(total: Shares, shares: Shares, sign: int) -> None:
    for key, counts in shares.items():
        into = total.setdefault(key, Counter())
        for name, value in counts.items():
            into[name] += sign * value


def _key_values(model: type, key: str) -> dict[str, Any]:
    fields = model.KEY_FIELDS
    parts = key.split("|", len(fields) - 1)
    values: dict[str, Any] = {}
    for name, part in zip(fields, parts, strict=True):
        if name == "day":
            values[name] = date.fromisoformat(part)
        elif name in ("source", "signature"):
            values[name] = part
        else:
            values[name] = int(part)
    return values


def _row_key(model: type, row: Any) -> str:
    parts = []
    for name in model.KEY_FIELDS:
        value = getattr(row, name)
        parts.append(value.isoformat() if isinstance(value, date) else str(value))
    return "|".join(parts)


def _apply(
    model: type, counters: tuple[str, ...], deltas: Shares, *, day_keyed: bool
) -> None:
    """Add ``deltas`` to the rows of ``model`` they name (read, add, write: the
    caller holds the state row, so no other refresh writes them meanwhile)."""
    deltas = {key: counts for key, counts in deltas.items() if any(counts.values())}
    if not deltas:
        return
    rows = model.objects.all()
    if day_keyed:
        days = {key.split("|", 1)[0] for key in deltas}
        rows = rows.filter(day__in=[date.fromisoformat(day) for day in days])
    existing = {_row_key(model, row): row for row in rows}
    created, updated = [], []
    for key, counts in deltas.items():
        row = existing.get(key)
        if row is None:
            row = model(**_key_values(model, key))
            created.append(row)
        else:
            updated.append(row)
        for name, value in counts.items():
            setattr(row, name, getattr(row, name) + value)
    model.objects.bulk_create(created, batch_size=BATCH)
    model.objects.bulk_update(updated, list(counters), batch_size=100)


# ---------------------------------------------------------------- digest
@transaction.atomic
def digest_subscribe(*, user: AbstractBaseUser, subscribe: bool) -> bool:
    """Ask for the weekly digest, or stop it. Only people who may read the
    dashboards can ask. Returns whether the person is subscribed now."""
    if subscribe and not may_read_dashboards(user):
        raise PermissionDenied("Only people who read the dashboards get the digest.")
    if subscribe:
        DigestSubscription.objects.get_or_create(user=user)
    else:
        DigestSubscription.objects.filter(user=user).delete()
    return subscribe
