"""The portal's pages: every control has a name, ids are unique."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from django.test import Client

from incidents import services
from tests.incidents.test_console_accessibility import parse

pytestmark = pytest.mark.django_db


def test_every_portal_control_has_a_name_and_ids_are_unique(
    org: SimpleNamespace,
) -> None:
    incident = services.incident_report(
        by=org.requester, title="Slow", description="d", impact="low", urgency="low"
    )
    client = Client()
    client.force_login(org.requester)
    for path in ("/portal/", "/portal/report/", f"/portal/tickets/{incident.number}/"):
        page = parse(client.get(path).content.decode())
        assert page.controls, path
        assert page.unnamed() == [], path
        assert [i for i, n in Counter(page.ids).items() if n > 1] == [], path
