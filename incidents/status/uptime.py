"""Uptime from component impacts, the way Statuspage counts it.

Statuspage's uptime showcase (https://help.statuspage.io/help/uptime-calendar,
"How it works: driven by component states") counts the minutes a component
spends in each state: a minute of major outage is a minute of downtime, a minute
of partial outage counts for 30% of one, degraded performance and maintenance
count for nothing. Where two entries put the same component in a state at the
same time, the worse state counts, once. A pure module: spans in, figures out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from incidents.models.status import STATE_RANK, ComponentState

WEIGHTS = {
    ComponentState.MAJOR: 1.0,
    ComponentState.PARTIAL: 0.3,
    ComponentState.DEGRADED: 0.0,
}


@dataclass(frozen=True)
class Span:
    """A component in ``state`` from ``start`` until ``end`` (None: still)."""

    state: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Segment:
    """A stretch of time in one state: the worst of the spans covering it."""

    state: str
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def segments(spans: Iterable[Span], start: datetime, end: datetime) -> list[Segment]:
    """The time between ``start`` and ``end`` that some span covers, cut where
    the worst covering state changes; in order, never overlapping."""
    clipped = [
        (max(s.start, start), min(s.end or end, end), s.state)
        for s in spans
        if s.start < end and (s.end is None or s.end > start)
    ]
    cuts = sorted({t for a, b, _ in clipped if a < b for t in (a, b)})
    found: list[Segment] = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        covering = [state for a, b, state in clipped if a <= left and b >= right]
        if not covering:
            continue
        state = max(covering, key=STATE_RANK.__getitem__)
        if found and found[-1].state == state and found[-1].end == left:
            found[-1] = Segment(state, found[-1].start, right)
        else:
            found.append(Segment(state, left, right))
    return found


def downtime_minutes(parts: Iterable[Segment]) -> float:
    """Minutes of downtime, weighted by state."""
    return sum(WEIGHTS.get(part.state, 0.0) * part.minutes for part in parts)


def uptime_percent(parts: Iterable[Segment], start: datetime, end: datetime) -> float:
    """The share of ``start``..``end`` that was up, in percent."""
    total = (end - start).total_seconds() / 60
    if total <= 0:
        return 100.0
    return max(0.0, 100.0 * (1 - downtime_minutes(parts) / total))


def uptime_label(percent: float) -> str:
    """Two decimals, rounded down: any downtime at all never reads as 100.00."""
    return f"{math.floor(percent * 100) / 100:.2f}"


def clip(parts: Iterable[Segment], start: datetime, end: datetime) -> list[Segment]:
    """The parts of ``parts`` between ``start`` and ``end``."""
    return [
        Segment(p.state, max(p.start, start), min(p.end, end))
        for p in parts
        if p.start < end and p.end > start
    ]


def worst(states: Iterable[str]) -> str:
    return max(states, key=STATE_RANK.__getitem__, default=ComponentState.OPERATIONAL)
