"""Sample responses of Statuspage's public API (v2), as its documentation gives
them: the ``/api`` page every Statuspage page serves (e.g.
https://metastatuspage.com/api, https://confluence.status.atlassian.com/api),
whose samples show the fields, nesting and value kinds of ``status.json``,
``summary.json``, ``components.json``, ``incidents.json``,
``incidents/unresolved.json`` and ``scheduled-maintenances.json``. Component
fields that sample abbreviates (``group``, ``group_id``, ``showcase``,
``start_date``, ``only_show_if_degraded``, a group's ``components``) are as
Statuspage's live responses carry them (and the ``statuspage.io`` client's
result types declare them); so are an incident's ``started_at`` and
``components``.

The field names and structure are the documentation's; the values here are
made up. The tests compare our responses with these, key by key.
"""

from __future__ import annotations

PAGE = {
    "id": "abcd1234wxyz",
    "name": "Example",
    "url": "https://status.example.com",
    "time_zone": "Etc/UTC",
    "updated_at": "2026-01-05T10:01:00.000Z",
}
STATUS = {"indicator": "major", "description": "Partial System Outage"}
COMPONENT = {
    "id": "c0mp0nent001",
    "name": "API",
    "status": "partial_outage",
    "created_at": "2025-06-01T09:00:00.000Z",
    "updated_at": "2026-01-05T10:00:00.000Z",
    "position": 1,
    "description": None,
    "showcase": True,
    "start_date": None,
    "group_id": None,
    "page_id": "abcd1234wxyz",
    "group": False,
    "only_show_if_degraded": False,
}
GROUP = {
    **COMPONENT,
    "id": "gr0up0000001",
    "name": "Customer-facing",
    "group": True,
    "showcase": False,
    "components": ["c0mp0nent001"],
}
UPDATE = {
    "id": "upd4te000001",
    "status": "identified",
    "body": "We found the cause and are fixing it.",
    "incident_id": "inc1dent0001",
    "created_at": "2026-01-05T10:00:00.000Z",
    "updated_at": "2026-01-05T10:00:00.000Z",
    "display_at": "2026-01-05T10:00:00.000Z",
}
INCIDENT = {
    "id": "inc1dent0001",
    "name": "Errors on the API",
    "status": "identified",
    "created_at": "2026-01-05T09:40:00.000Z",
    "updated_at": "2026-01-05T10:00:00.000Z",
    "monitoring_at": None,
    "resolved_at": None,
    "impact": "major",
    "shortlink": "https://stspg.io/xxxxx",
    "started_at": "2026-01-05T09:30:00.000Z",
    "page_id": "abcd1234wxyz",
    "incident_updates": [UPDATE],
    "components": [COMPONENT],
}
MAINTENANCE = {
    **INCIDENT,
    "id": "ma1ntenance1",
    "name": "Database upgrade",
    "status": "scheduled",
    "impact": "maintenance",
    "scheduled_for": "2026-01-10T22:00:00.000Z",
    "scheduled_until": "2026-01-10T23:30:00.000Z",
    "incident_updates": [{**UPDATE, "status": "scheduled"}],
}

SAMPLES = {
    "status.json": {"page": PAGE, "status": STATUS},
    "summary.json": {
        "page": PAGE,
        "components": [COMPONENT, GROUP],
        "incidents": [INCIDENT],
        "scheduled_maintenances": [MAINTENANCE],
        "status": STATUS,
    },
    "components.json": {"page": PAGE, "components": [COMPONENT, GROUP]},
    "incidents.json": {"page": PAGE, "incidents": [INCIDENT]},
    "incidents/unresolved.json": {"page": PAGE, "incidents": [INCIDENT]},
    "scheduled-maintenances.json": {
        "page": PAGE,
        "scheduled_maintenances": [MAINTENANCE],
    },
    "scheduled-maintenances/upcoming.json": {
        "page": PAGE,
        "scheduled_maintenances": [MAINTENANCE],
    },
    "scheduled-maintenances/active.json": {
        "page": PAGE,
        "scheduled_maintenances": [{**MAINTENANCE, "status": "in_progress"}],
    },
}

# The values Statuspage documents for its enumerations.
ENUMS = {
    "indicator": {"none", "minor", "major", "critical", "maintenance"},
    "component status": {
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    },
    "incident status": {
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem",
    },
    "maintenance status": {"scheduled", "in_progress", "verifying", "completed"},
    "impact": {"none", "minor", "major", "critical", "maintenance"},
}
