"""The status page's content in the shapes of Statuspage's public API (v2), so
tools and widgets that read a Statuspage page read ours unchanged.

Field names, nesting and values follow the documentation every Statuspage page
serves at ``/api`` (e.g. https://metastatuspage.com/api, the same at
https://confluence.status.atlassian.com/api), with its sample responses of
``/api/v2/status.json``, ``summary.json``, ``components.json``,
``incidents.json``, ``incidents/unresolved.json``, ``scheduled-maintenances.json``
and ``scheduled-maintenances/upcoming.json`` and ``active.json``:

- ``page``: ``id``, ``name``, ``url``, ``time_zone``, ``updated_at``.
- ``status``: ``indicator`` (none, minor, major, critical, maintenance) and
  ``description``.
- a component: ``id``, ``name``, ``status`` (operational, degraded_performance,
  partial_outage, major_outage, under_maintenance), ``created_at``,
  ``updated_at``, ``position``, ``description``, ``showcase``, ``start_date``,
  ``group_id``, ``page_id``, ``group``, ``only_show_if_degraded``; a group is a
  component with ``group`` true and its members' ids in ``components``.
- an incident: ``id``, ``name``, ``status`` (investigating, identified,
  monitoring, resolved), ``created_at``, ``updated_at``, ``monitoring_at``,
  ``resolved_at``, ``impact`` (none, minor, major, critical), ``shortlink``,
  ``started_at``, ``page_id``, ``components`` and ``incident_updates``, each with
  ``id``, ``status``, ``body``, ``incident_id``, ``created_at``, ``updated_at``,
  ``display_at``.
- a scheduled maintenance: an incident with ``scheduled_for`` and
  ``scheduled_until``, ``impact`` "maintenance" and ``status`` scheduled,
  in_progress or completed.

Times are ISO 8601 with milliseconds (Django's JSON encoder writes them so).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from incidents.status.selectors import Content


def _page_id(content: Content) -> str:
    return content["page"]["id"]


def page(content: Content) -> Content:
    return dict(content["page"])


def status(content: Content) -> Content:
    return {"indicator": content["indicator"], "description": content["state_label"]}


def _component(component: Content, content: Content) -> Content:
    return {
        "id": component["id"],
        "name": component["name"],
        "status": component["state"],
        "created_at": component["created_at"],
        "updated_at": component["updated_at"],
        "position": component["position"],
        "description": component["description"],
        "showcase": True,
        "start_date": None,
        "group_id": component["group_id"],
        "page_id": _page_id(content),
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(group: Content, content: Content) -> Content:
    """A group, as Statuspage gives one: a component with its members' ids."""
    as_component = {**group, "description": None, "group_id": None}
    return {
        **_component(as_component, content),
        "showcase": False,
        "group": True,
        "components": [c["id"] for c in group["components"]],
    }


def components(content: Content) -> list[Content]:
    """Every component, and every group as a component of its own."""
    return [_component(c, content) for c in content["components"]] + [
        _group(g, content) for g in content["groups"]
    ]


def shortlink(public_id: str) -> str:
    return settings.SITE_URL + reverse("status:entry", args=[public_id])


def _components_named(named: list[Content], content: Content) -> list[Content]:
    by_id = {c["id"]: c for c in content["components"]}
    return [_component(by_id[c["id"]], content) for c in named if c["id"] in by_id]


def incident(entry: Content, content: Content) -> Content:
    return {
        "id": entry["id"],
        "name": entry["title"],
        "status": entry["stage"],
        "created_at": entry["published_at"],
        "updated_at": entry["updated_at"],
        "monitoring_at": entry["monitoring_at"],
        "resolved_at": entry["resolved_at"],
        "impact": entry["impact"],
        "shortlink": shortlink(entry["id"]),
        "started_at": entry["started_at"],
        "page_id": _page_id(content),
        "incident_updates": [
            {
                "id": message["id"],
                "status": message["stage"],
                "body": message["body"],
                "incident_id": entry["id"],
                "created_at": message["created_at"],
                "updated_at": message["edited_at"] or message["created_at"],
                "display_at": message["created_at"],
            }
            for message in entry["messages"]
        ],
        "components": _components_named(entry["components"], content),
    }


# What a window's stage changes say, as its updates.
MAINTENANCE_UPDATES = {
    "in_progress": "The maintenance has started.",
    "completed": "The maintenance is complete.",
}


def maintenance(window: Content, content: Content) -> Content:
    """A maintenance window as a Statuspage scheduled maintenance: its updates
    are its announcement and, once reached, its start and its end, newest
    first."""
    steps = [("scheduled", window["created_at"], window["message"] or window["title"])]
    if window["stage"] in ("in_progress", "completed"):
        steps.append(
            ("in_progress", window["starts_at"], MAINTENANCE_UPDATES["in_progress"])
        )
    if window["stage"] == "completed":
        steps.append(("completed", window["ends_at"], MAINTENANCE_UPDATES["completed"]))
    return {
        "id": window["id"],
        "name": window["title"],
        "status": window["stage"],
        "created_at": window["created_at"],
        "updated_at": window["updated_at"],
        "monitoring_at": None,
        "resolved_at": window["ends_at"] if window["stage"] == "completed" else None,
        "impact": "maintenance",
        "shortlink": f"{settings.SITE_URL}{reverse('status:page')}#{window['id']}",
        "started_at": window["starts_at"],
        "page_id": _page_id(content),
        "incident_updates": [
            {
                "id": f"{window['id']}-{stage}",
                "status": stage,
                "body": body,
                "incident_id": window["id"],
                "created_at": at,
                "updated_at": at,
                "display_at": at,
            }
            for stage, at, body in reversed(steps)
        ],
        "components": _components_named(window["components"], content),
        "scheduled_for": window["starts_at"],
        "scheduled_until": window["ends_at"],
    }


def _incidents(entries: list[Content], content: Content) -> list[Content]:
    return [incident(entry, content) for entry in entries]


def _maintenances(windows: list[Content], content: Content) -> list[Content]:
    return [maintenance(window, content) for window in windows]


def shape(name: str, content: Content) -> dict[str, Any]:
    """The response of the endpoint ``name`` (see ``ENDPOINTS``)."""
    body: dict[str, Any] = {"page": page(content)}
    if name == "status":
        body["status"] = status(content)
    elif name == "summary":
        body["components"] = components(content)
        body["incidents"] = _incidents(content["current"], content)
        body["scheduled_maintenances"] = _maintenances(
            content["maintenance_active"] + content["maintenance_upcoming"], content
        )
        body["status"] = status(content)
    elif name == "components":
        body["components"] = components(content)
    elif name == "incidents":
        body["incidents"] = _incidents(content["recent"], content)
    elif name == "unresolved":
        body["incidents"] = _incidents(content["current"], content)
    elif name == "maintenances":
        body["scheduled_maintenances"] = _maintenances(
            content["maintenance_recent"], content
        )
    elif name == "maintenances-upcoming":
        body["scheduled_maintenances"] = _maintenances(
            content["maintenance_upcoming"], content
        )
    elif name == "maintenances-active":
        body["scheduled_maintenances"] = _maintenances(
            content["maintenance_active"], content
        )
    else:
        raise KeyError(name)
    return body


# URL path under /api/v2/ -> shape name.
ENDPOINTS = {
    "status.json": "status",
    "summary.json": "summary",
    "components.json": "components",
    "incidents.json": "incidents",
    "incidents/unresolved.json": "unresolved",
    "scheduled-maintenances.json": "maintenances",
    "scheduled-maintenances/upcoming.json": "maintenances-upcoming",
    "scheduled-maintenances/active.json": "maintenances-active",
}
