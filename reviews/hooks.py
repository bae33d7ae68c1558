"""The reviews app's end of the incidents' one hook to it.

``incidents.services._base.incident_resolved`` calls ``incident_resolved`` (named
in ``settings.INCIDENT_RESOLVED_HOOKS``) inside every resolution's transaction, in
a savepoint: if opening the review fails, the error is logged and the resolution
goes on. The incidents app never imports this module (tests/test_boundaries.py)."""

from __future__ import annotations

from datetime import datetime

from incidents.models import Incident
from reviews.services import review_open_for_resolution


def incident_resolved(*, incident: Incident, at: datetime) -> None:
    """Open the incident's post-incident review if one is due (the rules are in
    ``review_open_for_resolution``)."""
    review_open_for_resolution(incident=incident, at=at)
