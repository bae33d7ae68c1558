"""The navigation bar: one list of areas, each shown only to those who may open it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None
    staff_only: bool = False

    def allows(self, user: AbstractBaseUser | AnonymousUser) -> bool:
        if not user.is_authenticated:
            return False
        if self.staff_only and not user.is_staff:
            return False
        return self.permission is None or user.has_perm(self.permission)

    @property
    def url(self) -> str:
        return reverse(self.url_name)


# In order of precedence: a user's home page is the first item they may open.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Queue", "incidents:console", "incidents.use_agent_console"),
    NavItem("Status entries", "status:console", "incidents.use_agent_console"),
    NavItem("Dashboards", "incidents:dashboards", "incidents.view_sla_dashboards"),
    NavItem("Portal", "incidents:portal", "incidents.use_requester_portal"),
    NavItem("Admin", "admin:index", staff_only=True),
)


def nav_items_for(user: AbstractBaseUser | AnonymousUser) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.allows(user)]


def navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: the navigation items for the current user."""
    return {"nav_items": nav_items_for(request.user)}
