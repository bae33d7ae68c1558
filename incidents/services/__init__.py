"""Every write to an incident goes through these services: web views, the API,
Celery tasks and the admin all call them, and no other code changes an incident."""

from incidents.services.communication import incident_add_note, incident_post_update
from incidents.services.intake import (
    incident_correct_timestamp,
    incident_log,
    incident_update,
)
from incidents.services.knowledge import incident_record_article
from incidents.services.lifecycle import (
    incident_cancel,
    incident_close_unconfirmed,
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
from incidents.services.portal import (
    incident_log_call,
    incident_reply,
    incident_report,
)
from incidents.services.routing import (
    incident_assign,
    incident_escalate,
    incident_link_problem,
    incident_unlink_problem,
)

__all__ = [
    "incident_add_note",
    "incident_assign",
    "incident_cancel",
    "incident_close_unconfirmed",
    "incident_confirm",
    "incident_correct_timestamp",
    "incident_declare_major",
    "incident_escalate",
    "incident_link_problem",
    "incident_log",
    "incident_log_call",
    "incident_merge",
    "incident_post_update",
    "incident_record_article",
    "incident_reopen",
    "incident_reply",
    "incident_report",
    "incident_resolve",
    "incident_resume",
    "incident_set_bridge",
    "incident_set_major_roles",
    "incident_set_stakeholders",
    "incident_start_work",
    "incident_triage",
    "incident_unlink_problem",
    "incident_update",
    "incident_wait_for_requester",
]
