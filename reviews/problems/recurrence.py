"""Recurrence proposes a problem: when one error signature (``incidents.signatures``)
has been seen on N incidents within a window (the admin's review policy, the same
rule that opens a recurring review: 3 in 30 days by default) and no open problem
covers it,
the problem list and the review page say "recurring: N incidents with signature
X; create a problem?", and one click creates the problem linked to them.

A signature is covered when an incident of it is linked to a problem that is open
or a known error: that problem is already the place to work it. Every count here
is a range of the ``incident_signature_logged`` index, never a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from incidents.models import Category, Incident, Integration, Problem, Service
from incidents.selectors import recurring_incidents
from incidents.signatures import ALERT_PREFIX
from itsm.cache import cached, forget
from reviews.models import ReviewPolicy
from reviews.problems import services

# The most signatures the problem list proposes at once, the busiest first, and
# the most recurring ones looked at to find them (the busiest are often covered).
PROPOSALS_SHOWN = 10
CANDIDATES = 100
PROPOSALS_KEY = "problems:recurring-proposals"
PROPOSALS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Rule:
    count: int
    days: int

    def since(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)


def rule() -> Rule:
    """The admin-set recurrence rule (``ReviewPolicy``): one rule for reviews and
    problems, so the review a recurrence opens and the problem it proposes agree."""
    policy = ReviewPolicy.current()
    return Rule(
        count=max(2, policy.recurrence_count),
        days=max(1, policy.recurrence_window.days),
    )


@dataclass(frozen=True)
class Proposal:
    """ "Recurring: ``count`` incidents with ``signature``; create a problem?"."""

    signature: str
    count: int
    days: int
    label: str = ""

    @property
    def title(self) -> str:
        return f"Recurring: {self.label or self.signature}"


def is_covered(signature: str) -> bool:
    """Whether an open (or known-error) problem already covers the signature."""
    return Incident.objects.filter(
        signature=signature, problem__status__in=Problem.ACTIVE_STATUSES
    ).exists()


def describe(signature: str) -> str:
    """The signature in words: the integration and alert key, or the service and
    category. Two small lookups by primary key."""
    parts = signature.split(":")
    if signature.startswith(ALERT_PREFIX) and len(parts) >= 3:
        name = Integration.objects.filter(pk=_int(parts[1])).values_list(
            "name", flat=True
        )
        return f"alert {':'.join(parts[2:])} from {next(iter(name), parts[1])}"
    if len(parts) == 4 and parts[0] == "service":
        service = Service.objects.filter(pk=_int(parts[1])).values_list(
            "name", flat=True
        )
        category = Category.objects.filter(pk=_int(parts[3])).values_list(
            "name", flat=True
        )
        return " · ".join(
            [next(iter(service), "no service"), next(iter(category), "no category")]
        )
    return signature


def _int(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 18 else 0


def recurring_proposal_for(
    incident: Incident, *, now: datetime | None = None
) -> Proposal | None:
    """The proposal for the incident's signature, if it recurs by the rule and no
    open problem covers it; else None. Two indexed queries (none without a
    signature). For the review page."""
    signature = incident.signature
    if not signature:
        return None
    current = rule()
    count = recurring_incidents(
        signature, since=current.since(now or timezone.now())
    ).count()
    if count < current.count or is_covered(signature):
        return None
    return Proposal(
        signature=signature, count=count, days=current.days, label=describe(signature)
    )


def _recurring_counts(since: datetime, at_least: int) -> list[tuple[str, int]]:
    """Signatures seen on at least ``at_least`` incidents since ``since``, the
    busiest first, with their counts: one grouped read of the window's rows on
    the ``incident_logged`` index (merged and cancelled ones left out)."""
    rows = (
        Incident.objects.filter(logged_at__gte=since)
        .exclude(signature="")
        .exclude(status__in=(Incident.Status.MERGED, Incident.Status.CANCELLED))
        .order_by()
        .values("signature")
        .annotate(n=Count("pk"))
        .filter(n__gte=at_least)
        .order_by("-n", "signature")
        .values_list("signature", "n")
    )
    return list(rows[:CANDIDATES])


def _covered_of(signatures: list[str]) -> set[str]:
    """Which of ``signatures`` an open or known-error problem covers: one query
    on the signature index."""
    if not signatures:
        return set()
    return set(
        Incident.objects.filter(
            signature__in=signatures, problem__status__in=Problem.ACTIVE_STATUSES
        )
        .order_by()
        .values_list("signature", flat=True)
        .distinct()
    )


def _compute_proposals(now: datetime) -> list[Proposal]:
    current = rule()
    counts = _recurring_counts(current.since(now), current.count)
    covered = _covered_of([signature for signature, _ in counts])
    return [
        Proposal(signature=sig, count=n, days=current.days, label=describe(sig))
        for sig, n in counts
        if sig not in covered
    ][:PROPOSALS_SHOWN]


def recurring_proposals(*, now: datetime | None = None) -> list[Proposal]:
    """The signatures that recur by the rule and no open problem covers, the
    busiest first (at most ``PROPOSALS_SHOWN``). Counting them reads every
    incident of the window, so the list is kept in the shared cache for
    ``PROPOSALS_CACHE_SECONDS`` (a problem created from one forgets it); a
    given ``now`` (tests, replays) reads the database."""
    if now is not None:
        return _compute_proposals(now)
    return cached(
        PROPOSALS_KEY,
        lambda: _compute_proposals(timezone.now()),
        PROPOSALS_CACHE_SECONDS,
    )


def proposals_changed() -> None:
    """Forget the cached proposals: a problem now covers one of them."""
    forget(PROPOSALS_KEY)


def problem_create_from_recurrence(
    *,
    by: AbstractBaseUser,
    signature: str,
    owner_team: object | None = None,
    now: datetime | None = None,
) -> Problem:
    """One click: a problem for the recurring signature, linked to its incidents
    in the window, owned by the team of the newest one unless told. Refused (400)
    when the signature no longer recurs by the rule or a problem covers it now."""
    at = now or timezone.now()
    current = rule()
    incidents = list(
        recurring_incidents(signature, since=current.since(at)).select_related("team")
    )
    if len(incidents) < current.count:
        raise ValidationError(
            {"signature": "This error no longer recurs often enough for a problem."}
        )
    if is_covered(signature):
        raise ValidationError(
            {"signature": "An open problem already covers this error."}
        )
    team = owner_team or next(
        (incident.team for incident in reversed(incidents) if incident.team_id), None
    )
    label = describe(signature)
    problem = services.problem_create(
        by=by,
        title=f"Recurring: {label}"[:200],
        description=(
            f"{len(incidents)} incidents with the signature {signature} in "
            f"{current.days} days, the first {incidents[0].number}."
        ),
        owner_team=team,
        incidents=incidents,
        now=at,
    )
    # Now for this caller's next page, and again once committed, in case another
    # request cached the list in between.
    proposals_changed()
    transaction.on_commit(proposals_changed)
    return problem
