"""Every write to a problem: the console, the API, the demo loader and the
recurrence proposal all call these, and no other code changes a problem.

Each service is one transaction that checks the caller may work the problem,
locks its row, refuses a caller whose copy is out of date (``version``, 409),
validates before writing anything, saves, and appends to the problem's timeline.
Incidents are linked and unlinked only through the incident services, which put
the change on both timelines; the known-error article is written only through
the knowledge base's services.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents import services as incident_services
from incidents.exceptions import IncidentConflict
from incidents.models import Incident, Problem, ProblemEvent, Team
from kb import services as kb_services
from kb.models import Article

User = AbstractBaseUser
T = TypeVar("T")

ADD_PERMISSION = "incidents.add_problem"
CHANGE_PERMISSION = "incidents.change_problem"
# Incident managers and managers work every team's problems; agents their own.
ALL_TEAMS_PERMISSION = "incidents.manage_problems"
EDITABLE_FIELDS = ("title", "description", "root_cause", "workaround", "owner_team")
TRANSITION_VERBS = {
    "mark_known_error": "mark as a known error",
    "resolve": "resolve",
    "close": "close",
}


class ProblemConflict(IncidentConflict):
    """The problem's state does not allow this now, or someone else saved it since
    the caller read it (409)."""


# ---------------------------------------------------------------- rules
def may_work(user: User, problem: Problem | None = None) -> bool:
    """Whether ``user`` may write ``problem`` (or, without one, write problems at
    all): incident managers and managers any; agents those of their own teams, and
    those no team owns yet."""
    if not user.has_perm(CHANGE_PERMISSION):
        return False
    if problem is None or user.has_perm(ALL_TEAMS_PERMISSION):
        return True
    if problem.owner_team_id is None:
        return True
    return problem.owner_team.members.filter(pk=user.pk).exists()


def _require_work(by: User, problem: Problem | None, action: str) -> None:
    if not may_work(by, problem):
        raise PermissionDenied(f"You may not {action}.")


def _require_team(by: User, team: Team | None) -> None:
    """Agents give problems only to teams they are in; the others to any team."""
    if team is None:
        raise ValidationError({"owner_team": "Say which team owns the problem."})
    if by.has_perm(ALL_TEAMS_PERMISSION):
        return
    if not team.members.filter(pk=by.pk).exists():
        raise ValidationError(
            {"owner_team": f"You are not in {team.name}; choose one of your teams."}
        )


def _validate(problem: Problem) -> None:
    errors = {}
    if not problem.title.strip():
        errors["title"] = "A problem needs a title."
    if errors:
        raise ValidationError(errors)
    problem.full_clean(exclude=["status", "owner_team"], validate_unique=False)


def _lock(problem: Problem, *, version: int | None) -> None:
    """Lock the problem's row for the transaction, bring the caller's copy up to
    date with it, and refuse a version the caller read that is not current."""
    row = Problem.objects.select_for_update(no_key=True).get(pk=problem.pk)
    if version is not None and version != row.version:
        raise ProblemConflict(
            f"{problem.number} was changed by someone else meanwhile; reload it and "
            "try again.",
            code="stale",
        )
    for field in Problem._meta.concrete_fields:
        if field.is_relation and field.is_cached(problem):
            if getattr(row, field.attname) != getattr(problem, field.attname):
                field.delete_cached_value(problem)
        problem.__dict__[field.attname] = getattr(row, field.attname)
    problem._update_initial_state()


def _save(problem: Problem) -> None:
    problem.version += 1
    problem.save()


def record(
    problem: Problem,
    kind: ProblemEvent.Kind,
    *,
    by: User | None,
    at: datetime,
    **data: Any,
) -> ProblemEvent:
    """Append one entry to the problem's timeline."""
    return ProblemEvent.objects.create(
        problem=problem, kind=kind, actor=by, at=at, data=data
    )


def _display(value: Any) -> Any:
    if isinstance(value, Team):
        return {"id": value.pk, "name": value.name}
    return value


def problem_service(func: Callable[..., T]) -> Callable[..., T]:
    """Run a service in one transaction. If it fails, the caller's problem is
    reloaded, so nothing half-applied in memory outlives the rollback."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except Exception:
            problem = kwargs.get("problem")
            if isinstance(problem, Problem) and problem.pk is not None:
                with contextlib.suppress(DatabaseError):
                    fresh = Problem.objects.filter(pk=problem.pk).first()
                    if fresh is not None:
                        for field in Problem._meta.concrete_fields:
                            problem.__dict__[field.attname] = getattr(
                                fresh, field.attname
                            )
                        problem._update_initial_state()
            raise

    return run


# ---------------------------------------------------------------- create, edit
@problem_service
def problem_create(
    *,
    by: User,
    title: str,
    owner_team: Team | None,
    description: str = "",
    root_cause: str = "",
    workaround: str = "",
    incidents: Iterable[Incident] = (),
    now: datetime | None = None,
) -> Problem:
    """Open a problem owned by ``owner_team``, and link ``incidents`` to it (each
    through the incident services, on both timelines)."""
    _require_work(by, None, "open problems")
    if not by.has_perm(ADD_PERMISSION):
        raise PermissionDenied("You may not open problems.")
    _require_team(by, owner_team)
    at = now or timezone.now()
    problem = Problem(
        title=title.strip(),
        description=description,
        root_cause=root_cause,
        workaround=workaround,
        owner_team=owner_team,
    )
    _validate(problem)
    problem.save()
    record(problem, ProblemEvent.Kind.CREATED, by=by, at=at, title=problem.title)
    for incident in incidents:
        incident_services.incident_link_problem(
            incident=incident, by=by, problem=problem, now=at
        )
    return problem


@problem_service
def problem_update(
    *,
    problem: Problem,
    by: User,
    version: int | None,
    now: datetime | None = None,
    **fields: Any,
) -> Problem:
    """Change a problem's text or owner team. ``version`` is the one the caller
    read: if someone saved since, nothing is written (409). A closed problem is no
    longer edited (409). Each real change is one timeline entry."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not problem fields: {sorted(unknown)}")
    _require_work(by, problem, "edit this problem")
    _lock(problem, version=version)
    if problem.status == Problem.Status.CLOSED:
        raise ProblemConflict(
            f"{problem.number} is closed; it is no longer edited.", code="final"
        )
    if "owner_team" in fields and fields["owner_team"] != problem.owner_team:
        _require_team(by, fields["owner_team"])
    if (
        problem.status == Problem.Status.KNOWN_ERROR
        and not fields.get("workaround", problem.workaround).strip()
    ):
        raise ValidationError({"workaround": "A known error keeps its workaround."})
    at = now or timezone.now()
    changes = []
    for name, new in fields.items():
        new = new.strip() if name == "title" else new
        old = getattr(problem, name)
        if old != new:
            setattr(problem, name, new)
            changes.append((name, old, new))
    if not changes:
        return problem
    _validate(problem)
    _save(problem)
    for name, old, new in changes:
        record(
            problem,
            ProblemEvent.Kind.FIELD_CHANGED,
            by=by,
            at=at,
            field=name,
            old=_display(old),
            new=_display(new),
        )
    return problem


# ---------------------------------------------------------------- lifecycle
def _transition(
    problem: Problem,
    name: str,
    *,
    by: User,
    version: int | None,
    at: datetime,
    blockers: Callable[[Problem], dict[str, str]] | None = None,
) -> ProblemEvent:
    """Run transition ``name``: refused (409) unless the lifecycle allows it from
    the problem's state as it is now, refused (400) while ``blockers`` name what
    it still lacks; then saved and recorded."""
    _lock(problem, version=version)
    verb = TRANSITION_VERBS[name]
    method = getattr(problem, name)
    if not can_proceed(method):
        raise ProblemConflict(
            f"Cannot {verb} {problem.number}: it is "
            f"{problem.get_status_display().lower()}.",
            code="invalid_transition",
        )
    if blockers and (missing := blockers(problem)):
        raise ValidationError(missing)
    source = problem.status
    method(at=at)
    _save(problem)
    return record(
        problem,
        ProblemEvent.Kind.TRANSITION,
        by=by,
        at=at,
        transition=name,
        source=source,
        target=problem.status,
    )


@problem_service
def problem_mark_known_error(
    *,
    problem: Problem,
    by: User,
    version: int | None = None,
    now: datetime | None = None,
) -> Problem:
    """An open problem whose workaround is known becomes a known error: incidents
    linked to it from now on are marked known errors. Needs the workaround
    written down (400)."""
    _require_work(by, problem, "mark this problem as a known error")
    _transition(
        problem,
        "mark_known_error",
        by=by,
        version=version,
        at=now or timezone.now(),
        blockers=_known_error_blockers,
    )
    return problem


def _known_error_blockers(problem: Problem) -> dict[str, str]:
    if problem.workaround.strip():
        return {}
    return {"workaround": "Write down the workaround first."}


def _resolve_blockers(problem: Problem) -> dict[str, str]:
    if problem.root_cause.strip():
        return {}
    return {"root_cause": "Write down the root cause first."}


@problem_service
def problem_resolve(
    *,
    problem: Problem,
    by: User,
    version: int | None = None,
    now: datetime | None = None,
) -> Problem:
    """A permanent fix removed the cause: resolve the problem, open or known error.
    Needs the root cause written down (400)."""
    _require_work(by, problem, "resolve this problem")
    _transition(
        problem,
        "resolve",
        by=by,
        version=version,
        at=now or timezone.now(),
        blockers=_resolve_blockers,
    )
    return problem


@problem_service
def problem_close(
    *,
    problem: Problem,
    by: User,
    version: int | None = None,
    now: datetime | None = None,
) -> Problem:
    """Close a resolved problem: nothing is left to do, and it takes no more
    incidents."""
    _require_work(by, problem, "close this problem")
    _transition(problem, "close", by=by, version=version, at=now or timezone.now())
    return problem


PROBLEM_TRANSITIONS = {
    "known-error": problem_mark_known_error,
    "resolve": problem_resolve,
    "close": problem_close,
}


# ---------------------------------------------------------------- incidents
@problem_service
def problem_link_incident(
    *, problem: Problem, incident: Incident, by: User, now: datetime | None = None
) -> Incident:
    """Link an incident to the problem, through the incident service (on both
    timelines). The caller must work the problem and the incident."""
    _require_work(by, problem, "link incidents to this problem")
    return incident_services.incident_link_problem(
        incident=incident, by=by, problem=problem, now=now
    )


@problem_service
def problem_unlink_incident(
    *, problem: Problem, incident: Incident, by: User, now: datetime | None = None
) -> Incident:
    """Take an incident off the problem, through the incident service (on both
    timelines). An incident linked to another problem is refused (400): it is
    not this problem's to unlink."""
    _require_work(by, problem, "unlink incidents from this problem")
    if incident.problem_id != problem.pk:
        raise ValidationError(
            {"incident": f"{incident.number} is not linked to {problem.number}."}
        )
    return incident_services.incident_unlink_problem(incident=incident, by=by, now=now)


# ---------------------------------------------------------------- known error
def known_error_article(problem: Problem) -> Article | None:
    """The problem's known-error article: the newest one not retired."""
    return (
        Article.objects.filter(problem=problem, kind=Article.Kind.KNOWN_ERROR)
        .exclude(status=Article.Status.RETIRED)
        .order_by("-id")
        .first()
    )


def _article_text(problem: Problem) -> dict[str, str]:
    body = f"## Workaround\n\n{problem.workaround.strip()}"
    if problem.root_cause.strip():
        body += f"\n\n## Root cause\n\n{problem.root_cause.strip()}"
    body += f"\n\nProblem: {problem.number}"
    return {
        "title": problem.title,
        "symptoms": problem.description,
        "body": body,
    }


@problem_service
def problem_publish_workaround(
    *,
    problem: Problem,
    by: User,
    version: int | None = None,
    now: datetime | None = None,
) -> Article:
    """Publish the problem's workaround as its known-error article, for agents,
    so that triage shows it on new incidents that match: the article is written
    the first time and rewritten (a new published version) after. An open problem
    becomes a known error by it. Needs the workaround and an owner team (400),
    and the right to publish articles (403)."""
    _require_work(by, problem, "publish this problem's workaround")
    if not by.has_perm(kb_services.PUBLISH_PERMISSION):
        raise PermissionDenied("You may not publish articles.")
    at = now or timezone.now()
    _lock(problem, version=version)
    if problem.status not in Problem.ACTIVE_STATUSES:
        raise ProblemConflict(
            f"{problem.number} is {problem.get_status_display().lower()}; its "
            "workaround is no longer published.",
            code="invalid_transition",
        )
    blockers = _known_error_blockers(problem)
    if problem.owner_team_id is None:
        blockers["owner_team"] = "Say which team owns the known-error article."
    if blockers:
        raise ValidationError(blockers)
    text = _article_text(problem)
    article = known_error_article(problem)
    if article is None:
        article = kb_services.article_create(
            by=by,
            kind=Article.Kind.KNOWN_ERROR,
            owner_team=problem.owner_team,
            problem=problem,
            now=at,
            **text,
        )
    else:
        if article.status == Article.Status.PUBLISHED:
            kb_services.article_unpublish(article=article, by=by, now=at)
        kb_services.article_update(
            article=article,
            by=by,
            revision=article.revision,
            owner_team=problem.owner_team,
            now=at,
            **text,
        )
    version_row = kb_services.article_publish(article=article, by=by, now=at)
    if problem.status == Problem.Status.OPEN:
        _transition(problem, "mark_known_error", by=by, version=None, at=at)
    record(
        problem,
        ProblemEvent.Kind.ARTICLE_PUBLISHED,
        by=by,
        at=at,
        article=article.number,
        version=version_row.number,
    )
    return article
