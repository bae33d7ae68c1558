"""Reads of problems for the console and the API. Every read starts from
``problems_visible_to``: a person who may not read problems (a requester) finds
none, so a problem page or endpoint answers them 404, like one that does not
exist."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from incidents.models import Incident, Problem, ProblemEvent

READ_PERMISSION = "incidents.view_problem"
INCIDENTS_PER_PAGE = 50
EVENTS_PER_PAGE = 50
AnyUser = AbstractBaseUser | AnonymousUser


def problems_visible_to(user: AnyUser) -> QuerySet[Problem]:
    """Agents, incident managers and managers read every problem; nobody else
    any."""
    if not user.is_authenticated or not user.is_active:
        return Problem.objects.none()
    if user.has_perm(READ_PERMISSION):
        return Problem.objects.all()
    return Problem.objects.none()


def problem_get(*, user: AnyUser, number: str) -> Problem:
    """The problem ``PRB-000012`` if ``user`` may read it; DoesNotExist otherwise."""
    return problems_visible_to(user).select_related("owner_team").by_number(number)


def with_incident_count(problems: QuerySet[Problem]) -> QuerySet[Problem]:
    """Each problem with how many incidents are linked to it, counted by one
    subquery per row on the problem index of incidents (not a join of all)."""
    counted = (
        Incident.objects.filter(problem=OuterRef("pk"))
        .order_by()
        .values("problem")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return problems.annotate(incident_count=Coalesce(Subquery(counted), 0))


def problem_list(
    *,
    user: AnyUser,
    status: str = "",
    team: int | None = None,
    q: str = "",
) -> QuerySet[Problem]:
    """The problems ``user`` may read, newest first, by state, owner team and
    words of the title; with their owner team and incident count."""
    problems = problems_visible_to(user).select_related("owner_team")
    if status == "active":
        problems = problems.active()
    elif status:
        problems = problems.filter(status=status)
    if team is not None:
        problems = problems.filter(owner_team=team)
    if q.strip():
        words = Q()
        for word in q.split()[:6]:
            words &= Q(title__icontains=word) | Q(description__icontains=word)
        problems = problems.filter(words)
    return with_incident_count(problems).order_by("-id")


def _page(items: Any, number: Any, per_page: int) -> Page:
    return Paginator(items, per_page).get_page(number)


def problem_incidents(*, problem: Problem, page: Any = 1) -> Page:
    """One page of the incidents linked to the problem, newest first, with their
    team and assignee: two queries (the count, the page) however many there are."""
    incidents = (
        Incident.objects.filter(problem=problem)
        .select_related("team", "assignee")
        .order_by("-id")
    )
    return _page(incidents, page, INCIDENTS_PER_PAGE)


def problem_timeline(*, problem: Problem, page: Any = 1) -> Page:
    """One page of the problem's timeline, newest first, with who did each."""
    events = (
        ProblemEvent.objects.filter(problem=problem)
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return _page(events, page, EVENTS_PER_PAGE)
