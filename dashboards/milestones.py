"""When an incident was acknowledged and resolved, for the dashboards' times.

This is the one place a corrected milestone plugs in. The effective instants are
the incident's own (``acknowledged_at``, ``resolved_at``, which the SLA clocks
stopped at) unless a post-incident review corrected them (say, the fix was in
place twenty minutes before anyone pressed "resolve": ``reviews.ReviewMilestone``,
read by ``reviews.selectors.corrected_milestones``). The times are then read from
the same ledger up to those instants (``spans_until``); the SLA outcomes, which the
engine decided when the clock stopped, stay as they were. A review's "mitigated"
milestone counts as the resolution when it is earlier: service was restored then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from incidents.sla.clock import Span


@dataclass(frozen=True)
class Milestones:
    acknowledged_at: datetime | None
    resolved_at: datetime | None


def effective_milestones(
    row: Mapping[str, Any], corrected: Mapping[str, datetime] | None = None
) -> Milestones:
    """The acknowledgement and resolution the dashboards count an incident by: a
    review's corrections where there are any, else the recorded instants. An
    incident not yet acknowledged or resolved has no such milestone, whatever a
    review says of it."""
    corrected = corrected or {}
    acknowledged, resolved = row["acknowledged_at"], row["resolved_at"]
    if acknowledged is not None:
        acknowledged = corrected.get("acknowledged", acknowledged)
    if resolved is not None:
        ends = [
            corrected[name] for name in ("resolved", "mitigated") if name in corrected
        ]
        resolved = min(ends) if ends else resolved
    return Milestones(acknowledged, resolved)


def spans_until(spans: Sequence[Span], until: datetime) -> list[Span]:
    """A clock's ledger as if it had stopped at ``until``: spans after it dropped,
    the one across it cut there, and the last running one carried on to it if it
    stopped earlier. With the incident's own milestones the ledger stops there
    already, and this changes nothing."""
    kept: list[Span] = []
    for span in spans:
        if span.start >= until:
            break
        end = until if span.end is None or span.end > until else span.end
        kept.append(replace(span, end=end))
    if kept and not kept[-1].paused and kept[-1].end < until:
        kept[-1] = replace(kept[-1], end=until)
    return kept
