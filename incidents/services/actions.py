"""One table from an action's name to its service, shared by the API and the
agent console: both validate their input, then call ``incident_act``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incidents.models import Incident
from incidents.services._base import User
from incidents.services.communication import incident_post_update
from incidents.services.intake import incident_update
from incidents.services.lifecycle import (
    incident_cancel,
    incident_confirm,
    incident_merge,
    incident_reopen,
    incident_resolve,
    incident_resume,
    incident_start_work,
    incident_triage,
    incident_wait_for_requester,
)
from incidents.services.major import (
    incident_declare_major,
    incident_set_bridge,
    incident_set_major_roles,
    incident_set_stakeholders,
)
from incidents.services.portal import incident_note_with_files
from incidents.services.routing import incident_assign, incident_escalate

# Each entry takes the incident, the person, the version they saw (None: not
# checked) and the action's own input. Actions that only add (a note, an update)
# ignore the version: they never conflict with an edit.
ACTIONS: dict[str, Callable[..., Any]] = {
    "triage": lambda i, by, v, **d: incident_triage(
        incident=i, by=by, expected_version=v, **d
    ),
    "start_work": lambda i, by, v: incident_start_work(
        incident=i, by=by, expected_version=v
    ),
    "wait_for_requester": lambda i, by, v, **d: incident_wait_for_requester(
        incident=i, by=by, expected_version=v, **d
    ),
    "resume": lambda i, by, v: incident_resume(incident=i, by=by, expected_version=v),
    "resolve": lambda i, by, v, **d: incident_resolve(
        incident=i, by=by, expected_version=v, **d
    ),
    "confirm": lambda i, by, v: incident_confirm(incident=i, by=by, expected_version=v),
    "reopen": lambda i, by, v, **d: incident_reopen(
        incident=i, by=by, expected_version=v, **d
    ),
    "cancel": lambda i, by, v, **d: incident_cancel(
        incident=i, by=by, expected_version=v, **d
    ),
    "merge": lambda i, by, v, into: incident_merge(
        incident=i, into=into, by=by, expected_version=v
    ),
    "note": lambda i, by, v, attachments=(), **d: incident_note_with_files(
        incident=i, by=by, files=attachments, **d
    ),
    "update": lambda i, by, v, **d: incident_post_update(incident=i, by=by, **d),
    "assign": lambda i, by, v, **d: incident_assign(
        incident=i, by=by, expected_version=v, **d
    ),
    "escalate": lambda i, by, v, **d: incident_escalate(
        incident=i, by=by, expected_version=v, **d
    ),
    "edit": lambda i, by, v, **d: incident_update(
        incident=i, by=by, expected_version=v, **d
    ),
    "declare_major": lambda i, by, v, **d: incident_declare_major(
        incident=i, by=by, expected_version=v, **d
    ),
    "major_roles": lambda i, by, v, **d: incident_set_major_roles(
        incident=i, by=by, expected_version=v, **d
    ),
    "major_bridge": lambda i, by, v, **d: incident_set_bridge(
        incident=i, by=by, expected_version=v, **d
    ),
    "major_stakeholders": lambda i, by, v, **d: incident_set_stakeholders(
        incident=i, by=by, expected_version=v, **d
    ),
}


def incident_act(
    name: str, *, incident: Incident, by: User, version: int | None = None, **data: Any
) -> Any:
    """Run action ``name`` with its validated input (``merge`` takes the
    ``into`` incident, already looked up with the caller's visibility)."""
    return ACTIONS[name](incident, by, version, **data)
