"""A stakeholder update on a major incident is public by default once the status
page tells of the incident, and not before."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.status.conftest import major, publish

pytestmark = pytest.mark.django_db


def _public_box(desk: SimpleNamespace, number: str) -> str:
    client = Client()
    client.force_login(desk.manager)
    page = client.get(f"/console/{number}/").content.decode()
    found = re.search(r'<input[^>]*name="is_public"[^>]*>', page)
    assert found, "the update form's public checkbox"
    return found.group(0)


def test_the_public_box_is_checked_once_the_entry_is_published(
    desk: SimpleNamespace,
) -> None:
    incident = major(desk)
    assert "checked" not in _public_box(desk, incident.number)
    publish(desk, incident)
    assert "checked" in _public_box(desk, incident.number)
