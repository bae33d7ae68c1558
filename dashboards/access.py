"""Who reads which dashboards: managers and incident managers every team's,
agents their own teams', anyone else none (the pages answer 404, as for a page
that does not exist)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from incidents.models import Team

EVERY_TEAM = "incidents.view_sla_dashboards"
OWN_TEAMS = "dashboards.view_team_dashboards"


@dataclass(frozen=True)
class Scope:
    """The teams a person's dashboards cover: ``team_ids`` None means every team
    (and incidents with no team yet)."""

    team_ids: frozenset[int] | None

    @property
    def every_team(self) -> bool:
        return self.team_ids is None

    def allows_team(self, team_id: int) -> bool:
        return self.team_ids is None or team_id in self.team_ids


def may_read_dashboards(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_active and (user.has_perm(EVERY_TEAM) or user.has_perm(OWN_TEAMS))


def dashboard_scope(user: AbstractBaseUser | AnonymousUser) -> Scope | None:
    """The person's scope, or None if they may read no dashboard (one query for
    an agent's teams)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.has_perm(EVERY_TEAM):
        return Scope(team_ids=None)
    if user.has_perm(OWN_TEAMS):
        teams = Team.objects.filter(members=user).values_list("pk", flat=True)
        return Scope(team_ids=frozenset(teams))
    return None
