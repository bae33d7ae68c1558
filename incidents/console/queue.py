"""What the agent queue shows: one row per incident, with every value the table
prints computed once here, and the options of the queue's selects (categories,
teams, services and the agents to bulk-assign to), kept in the shared cache.

The queue is the page agents keep open all day and the page polls itself, so its
cost is per row: a row here is a few plain values, and the template only prints
them (no URL reversing, no filters, no related-object look-ups per row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from incidents.models import Category, Incident, Priority, Service, Team
from incidents.models.incident import NO_PRIORITY_RANK
from itsm.cache import cached, forget

# The columns a row needs; the team and assignee by a join, not as objects.
ROW_FIELDS = (
    "id",
    "title",
    "priority",
    "status",
    "team__name",
    "assignee__username",
    "acknowledged_at",
    "respond_due_at",
    "resolve_due_at",
    "respond_breached_at",
    "resolve_breached_at",
    "next_update_due_at",
)
_STATUS_LABELS = dict(Incident.Status.choices)
_NUMBER_PLACEHOLDER = "INC-0"
NOTHING = "—"


class Due(NamedTuple):
    """One SLA target as the queue shows it: missed, counting down, or none.

    A named tuple, as is ``QueueRow``: the queue makes three a row and its rows
    are kept by their ``repr`` (``itsm.fragments``), and a tuple is made and
    printed several times faster than a frozen dataclass."""

    missed: bool = False
    at: str = ""  # ISO 8601, for <time datetime>
    text: str = NOTHING
    missed_text: str = "missed"

    @property
    def html(self) -> SafeString:
        """The table cell's content: the one bit of markup made here, as it is
        printed 100 times a page (two cells a row)."""
        if self.missed:
            return format_html('<strong class="late">{}</strong>', self.missed_text)
        if self.at:
            return format_html('<time datetime="{}">{}</time>', self.at, self.text)
        return conditional_escape(self.text)


def countdown(seconds: float) -> str:
    """Time left, in the two largest units: ``45 min``, ``3 h 5 min``, ``2 d 4 h``."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


MAJOR = frozenset(Priority.major())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def update_key(at: datetime | None) -> str:
    """A due time as the major view's cursor keeps it: exact, in microseconds."""
    return "none" if at is None else str((at - _EPOCH) // timedelta(microseconds=1))


def update_key_time(key: str) -> datetime:
    return _EPOCH + timedelta(microseconds=int(key))


def _update_due(at: datetime | None, now: datetime) -> Due:
    shown = due(at, False, now)
    return Due(missed=True, missed_text="overdue") if shown.missed else shown


def due(at: datetime | None, missed: bool, now: datetime) -> Due:
    """A target is missed once the sweep recorded the breach, or once its time has
    passed (the sweep runs every 30 s and may not have got there yet)."""
    if missed or (at is not None and at <= now):
        return Due(missed=True)
    if at is None:
        return Due()
    return Due(at=at.isoformat(), text=countdown((at - now).total_seconds()))


class QueueRow(NamedTuple):
    """One incident in the queue, every value ready to print."""

    pk: int
    number: str
    url: str
    priority: int | None
    priority_label: str  # "P1" .. "P4", or a dash before triage
    css: str  # "p1" .. "p4" or "pnone"
    title: str
    services: tuple[str, ...]
    status: str
    team: str
    assignee: str
    respond: Due
    resolve: Due
    update: Due  # the next stakeholder update, for a P1/P2
    update_key: str  # its due time in microseconds ("none"): the major view's cursor

    @property
    def breached(self) -> bool:
        return self.respond.missed or self.resolve.missed

    @property
    def rank(self) -> int:
        """The position of its priority in the priority sort (no priority last)."""
        return self.priority or NO_PRIORITY_RANK


def queue_rows(
    values: Iterable[dict[str, Any]],
    services: dict[int, list[str]],
    now: datetime,
) -> list[QueueRow]:
    """Rows from ``Incident`` values (``ROW_FIELDS``) and each one's service names."""
    # One URL reversed per page; each row's is the same with its number.
    url = reverse("incidents:detail", args=[_NUMBER_PLACEHOLDER])
    head, tail = url.split(_NUMBER_PLACEHOLDER, 1)
    rows = []
    for v in values:
        number = f"INC-{v['id']:06d}"
        priority = v["priority"]
        acknowledged = v["acknowledged_at"] is not None
        rows.append(
            QueueRow(
                pk=v["id"],
                number=number,
                url=f"{head}{number}{tail}",
                priority=priority,
                priority_label=f"P{priority}" if priority else NOTHING,
                css=f"p{priority}" if priority else "pnone",
                title=v["title"],
                services=tuple(services.get(v["id"], ())),
                status=_STATUS_LABELS.get(v["status"], v["status"]),
                team=v["team__name"] or NOTHING,
                assignee=v["assignee__username"] or NOTHING,
                # Once acknowledged, the response target is met or already missed.
                respond=due(
                    None if acknowledged else v["respond_due_at"],
                    v["respond_breached_at"] is not None and not acknowledged,
                    now,
                ),
                resolve=due(
                    v["resolve_due_at"], v["resolve_breached_at"] is not None, now
                ),
                update=_update_due(v["next_update_due_at"], now)
                if priority in MAJOR
                else Due(),
                update_key=update_key(v["next_update_due_at"]),
            )
        )
    return rows


def rows_signature(rows: Iterable[QueueRow]) -> str:
    """A short digest of what the rows say that is worth announcing when it
    changes (which incidents, their state, priority, team, assignee, breaches),
    not the countdowns, which change every minute."""
    text = "\n".join(
        f"{r.number} {r.status} {r.priority} {r.team} {r.assignee} {r.breached}"
        for r in rows
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# ---------------------------------------------------------------- the selects
CHOICES_KEY = "incidents:console-choices:1"
# A category, team or service saved (or a team's members changed) clears the
# entry at once; the timeout bounds what a change made around the signals (a bulk
# update, another process filling the entry with what it read just before) leaves.
CHOICES_SECONDS = 60

Choice = tuple[int, str]


@dataclass(frozen=True)
class ConsoleChoices:
    """The options of the queue's selects, the same for everyone: categories,
    teams and services, and each team's active members (to bulk-assign to)."""

    categories: tuple[Choice, ...]
    teams: tuple[Choice, ...]
    services: tuple[Choice, ...]
    members: dict[int, tuple[Choice, ...]]

    def teams_of(self, user_id: int) -> list[int]:
        """The teams ``user_id`` is an active member of."""
        return [
            pk
            for pk, agents in self.members.items()
            if any(agent_id == user_id for agent_id, _ in agents)
        ]

    def agents_of(self, team_ids: Iterable[int]) -> list[Choice]:
        """The active members of these teams, each once, by username."""
        agents = {agent for pk in team_ids for agent in self.members.get(pk, ())}
        return sorted(agents, key=lambda agent: agent[1])


def load_console_choices() -> ConsoleChoices:
    """Read the options from the database (four queries)."""
    through = Team.members.through
    members: dict[int, list[Choice]] = {}
    for team_id, user_id, username in (
        through.objects.filter(user__is_active=True)
        .order_by("user__username")
        .values_list("team_id", "user_id", "user__username")
    ):
        members.setdefault(team_id, []).append((user_id, username))
    return ConsoleChoices(
        categories=tuple(Category.objects.values_list("pk", "name")),
        teams=tuple((team.pk, str(team)) for team in Team.objects.only("name", "tier")),
        services=tuple(Service.objects.values_list("pk", "name")),
        members={pk: tuple(agents) for pk, agents in members.items()},
    )


def console_choices() -> ConsoleChoices:
    """The options, from the cache (one round trip) or else the database. The
    queue does not need the cache: when it is down, the options are read."""
    return cached(CHOICES_KEY, load_console_choices, CHOICES_SECONDS)


def forget_console_choices(**kwargs: Any) -> None:
    """Signal receiver: something the selects list changed. A login only writes
    ``last_login`` and leaves them as they are. A save never fails for the cache:
    if it cannot be cleared, the entry runs out within ``CHOICES_SECONDS``."""
    if kwargs.get("update_fields") != frozenset({"last_login"}):
        forget(CHOICES_KEY)


def connect_signals() -> None:
    """Clear the cached options whenever what they list changes."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for model in (Category, Team, Service, get_user_model()):
        uid = f"console-choices-{model._meta.label_lower}"
        post_save.connect(forget_console_choices, sender=model, dispatch_uid=uid)
        post_delete.connect(forget_console_choices, sender=model, dispatch_uid=uid)
    m2m_changed.connect(
        forget_console_choices,
        sender=Team.members.through,
        dispatch_uid="console-choices-team-members",
    )
