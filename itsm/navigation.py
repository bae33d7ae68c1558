"""The navigation bar: one list of areas, each shown only to those who may open it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString

from itsm.fragments import rendered

# url name and script prefix -> path: the URLconf does not change while we run.
_URLS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # Any one of these opens the area (none: everyone logged in).
    permission: str | tuple[str, ...] | None = None
    staff_only: bool = False

    def allows(self, user: AbstractBaseUser | AnonymousUser) -> bool:
        if not user.is_authenticated:
            return False
        if self.staff_only and not user.is_staff:
            return False
        if self.permission is None:
            return True
        wanted = (
            (self.permission,) if isinstance(self.permission, str) else self.permission
        )
        return any(user.has_perm(permission) for permission in wanted)

    @property
    def url(self) -> str:
        key = (self.url_name, get_script_prefix())
        if key not in _URLS:
            _URLS[key] = reverse(self.url_name)
        return _URLS[key]


# In order of precedence: a user's home page is the first item they may open.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Queue", "incidents:console", "incidents.use_agent_console"),
    NavItem("Status entries", "status:console", "incidents.use_agent_console"),
    NavItem(
        "Dashboards",
        "dashboards:index",
        ("incidents.view_sla_dashboards", "dashboards.view_team_dashboards"),
    ),
    NavItem("Portal", "incidents:portal", "incidents.use_requester_portal"),
    NavItem("Admin", "admin:index", staff_only=True),
    NavItem("Knowledge base", "kb:list", "kb.view_article"),
    NavItem("Reviews", "reviews:list", "reviews.view_review"),
    NavItem("My action items", "reviews:my_action_items", "reviews.view_actionitem"),
    NavItem("Problems", "problems:list", "incidents.view_problem"),
    NavItem("Help articles", "kb:portal_list", "incidents.use_requester_portal"),
)


def nav_items_for(user: AbstractBaseUser | AnonymousUser) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.allows(user)]


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    url: str
    current: bool  # the page being shown


class NavigationBar:
    """The bar's links as HTML, made when a page prints it (the partials that
    htmx asks for never do) and kept by what it lists (``itsm.fragments``)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def html(self) -> SafeString:
        links = tuple(
            NavLink(item.label, item.url, self.request.path == item.url)
            for item in nav_items_for(self.request.user)
        )
        return rendered("_partials/navigation.html", links=links)

    def __str__(self) -> SafeString:
        return self.html

    def __html__(self) -> SafeString:
        return self.html


def navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: the navigation bar for the current user."""
    return {"navigation_bar": NavigationBar(request)}
