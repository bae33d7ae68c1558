"""The status page's own pages, public and in the console: every control has a
name, ids are unique, and nothing breaks the Content-Security-Policy (no inline
script or style, no event handler attributes)."""

from __future__ import annotations

import re
from collections import Counter
from types import SimpleNamespace

import pytest
from django.test import Client

from incidents.status import services as status
from tests.incidents.test_console_accessibility import parse
from tests.status.conftest import major, publish, say

pytestmark = pytest.mark.django_db

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|hx-on", re.I)


def _pages(client: Client, desk: SimpleNamespace) -> list[str]:
    entry = publish(desk, major(desk))
    say(desk, entry, "identified", "Found it.")
    proposal = status.status_entry_propose(incident=major(desk, title="Other"))
    client.force_login(desk.manager)
    return [
        "/status",
        f"/status/incidents/{entry.public_id}",
        "/status/subscribe",
        "/console/status/",
        f"/console/status/{entry.public_id}/",
        f"/console/status/{proposal.public_id}/",
        "/console/status/maintenance/new/",
        f"/console/{entry.incident.number}/",
    ]


def test_every_control_has_a_name_and_ids_are_unique(
    client: Client, desk: SimpleNamespace
) -> None:
    for path in _pages(client, desk):
        page = parse(client.get(path).content.decode())
        assert page.unnamed() == [], path
        assert [i for i, n in Counter(page.ids).items() if n > 1] == [], path


def test_nothing_inline_for_the_content_security_policy(
    client: Client, desk: SimpleNamespace
) -> None:
    for path in _pages(client, desk):
        html = client.get(path).content.decode()
        assert not INLINE.search(html), (path, INLINE.search(html))
