"""The knowledge base's one way onto an incident's timeline.

The knowledge base (the ``kb`` app) records here that an article was applied to an
incident or helped resolve it; it never writes incident rows itself, and this
module knows nothing of articles beyond the reference it is given.
"""

from __future__ import annotations

from datetime import datetime

from incidents.models import Incident, IncidentEvent
from incidents.services._base import (
    User,
    incident_service,
    now_or,
    record,
    refuse_if_final,
    require_perm,
)

ARTICLE_EVENTS = {
    "applied": IncidentEvent.Kind.ARTICLE_APPLIED,
    "helped": IncidentEvent.Kind.ARTICLE_HELPED,
}


@incident_service
def incident_record_article(
    *,
    incident: Incident,
    by: User,
    use: str,
    article: str,
    title: str,
    now: datetime | None = None,
) -> IncidentEvent:
    """Put on the timeline that the article numbered ``article`` was applied to the
    incident (``use="applied"``) or helped with it (``use="helped"``). Only people
    who work incidents may say so, and not once the incident has ended."""
    require_perm(by, "incidents.work_incident", "record an article on this incident")
    refuse_if_final(incident, "record an article on")
    return record(
        incident,
        ARTICLE_EVENTS[use],
        by=by,
        at=now_or(now),
        article=article,
        title=title[:200],
    )
