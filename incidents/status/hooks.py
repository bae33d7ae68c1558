"""The one door from the incident services to the status page.

``incidents.services._base.status_page_changed`` calls ``incident_changed`` after
the commit of every write to a major incident and of every public stakeholder
update. It never raises into the incident's request: the status page is told
what happened and decides for itself (``status_incident_sync``).
"""

from __future__ import annotations

import logging

from incidents.status.services import status_incident_sync

logger = logging.getLogger(__name__)


def incident_changed(*, incident_id: int) -> None:
    """Propose, auto-publish, carry public updates over, propose resolving (the
    status services forget the cached page when they change what it shows). A
    failure is logged, never raised: the next change of the incident catches
    up, since the sync is idempotent."""
    try:
        status_incident_sync(incident_id=incident_id)
    except Exception:
        logger.exception(
            "status page not brought in step with incident %s", incident_id
        )
