"""The roles people hold, as Django groups, and the permissions each one grants.

The code is the source of truth: ``roles_sync`` makes every role's group carry exactly
the permissions listed here, and runs after every ``migrate``. Admins assign people to
roles by group membership; granting extra permissions to a person stays possible.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q


class Role:
    """Group names, as admins see them."""

    REQUESTER = "Requester"
    AGENT = "Agent"
    INCIDENT_MANAGER = "Incident manager"
    MANAGER = "Manager"
    ADMIN = "Admin"

    ALL = (REQUESTER, AGENT, INCIDENT_MANAGER, MANAGER, ADMIN)


_ORG_READ = ("incidents.view_team", "incidents.view_category", "incidents.view_service")
_INCIDENT_READ = ("incidents.view_incident", "incidents.view_problem")
_AGENT = (
    "incidents.use_agent_console",
    *_ORG_READ,
    *_INCIDENT_READ,
    "incidents.add_incident",
    "incidents.change_incident",
    "incidents.triage_incident",
    "incidents.work_incident",
    "incidents.cancel_incident",
    "incidents.merge_incident",
    "incidents.add_problem",
    "incidents.change_problem",
    # The knowledge base: agents read and write articles; publishing is below.
    "kb.view_article",
    "kb.add_article",
    "kb.change_article",
    # Their own teams' dashboards (managers' and incident managers' cover all).
    "dashboards.view_team_dashboards",
    # Post-incident reviews of their teams' incidents, and action items.
    "reviews.view_review",
    "reviews.change_review",
    "reviews.view_actionitem",
    "reviews.add_actionitem",
    "reviews.change_actionitem",
)
# Incident managers and managers approve and publish reviews.
_REVIEW_APPROVE = ("reviews.approve_review",)
# Agents work their own teams' problems; incident managers and managers every
# team's (reviews.problems.services.may_work).
_PROBLEM_ALL_TEAMS = (
    "incidents.add_problem",
    "incidents.change_problem",
    "incidents.manage_problems",
)
# Team leads and incident managers decide what the knowledge base says.
_KB_PUBLISH = ("kb.publish_article",)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.REQUESTER: ("incidents.use_requester_portal",),
    Role.AGENT: _AGENT,
    Role.INCIDENT_MANAGER: (
        *_AGENT,
        *_KB_PUBLISH,
        *_REVIEW_APPROVE,
        "reviews.open_review",
        "incidents.manage_major_incidents",
        "incidents.view_sla_dashboards",
        "incidents.confirm_for_requester",
        "incidents.correct_incident_timestamps",
        # The status page: publish entries, announce planned maintenance.
        "incidents.publish_statusentry",
        "incidents.add_maintenancewindow",
        "incidents.change_maintenancewindow",
        *_PROBLEM_ALL_TEAMS,
        "incidents.view_integration",
    ),
    Role.MANAGER: (
        "incidents.view_sla_dashboards",
        *_ORG_READ,
        *_INCIDENT_READ,
        *_PROBLEM_ALL_TEAMS,
        *_REVIEW_APPROVE,
        "reviews.view_review",
        "reviews.view_actionitem",
    ),
}

# Admins configure the product in the Django admin: every model permission of these
# apps, and of users and groups, but none of the area permissions of the other roles.
ADMIN_APPS = ("incidents", "kb", "reviews", "dashboards")


def _permissions_for(names: tuple[str, ...]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    query = Q(pk__in=[])
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        names_missing = ", ".join(sorted(".".join(m) for m in missing))
        raise LookupError(f"Role permissions that do not exist: {names_missing}")
    return found


def _admin_permissions() -> list[Permission]:
    models = [
        m
        for label in ADMIN_APPS
        for m in global_apps.get_app_config(label).get_models()
    ]
    models += [get_user_model(), Group]
    return _permissions_for(
        tuple(
            f"{model._meta.app_label}.{get_permission_codename(action, model._meta)}"
            for model in models
            for action in model._meta.default_permissions
        )
    )


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create each role's group if missing and set its permissions to exactly those
    above; return the groups by role name. Idempotent."""
    groups = {}
    for role in Role.ALL:
        group, _ = Group.objects.get_or_create(name=role)
        if role == Role.ADMIN:
            group.permissions.set(_admin_permissions())
        else:
            group.permissions.set(_permissions_for(ROLE_PERMISSIONS[role]))
        groups[role] = group
    return groups


def roles_sync_after_migrate(*, using: str, **kwargs: Any) -> None:
    """post_migrate receiver. Permissions are created per app after that app's
    migrations, and ours may run before another app's (kb, reviews), so create them
    all first."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    roles_sync()
