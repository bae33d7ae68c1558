"""The demo data gives the dashboards a few weeks of history to chart."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboards.access import Scope
from dashboards.forms import Filters, preset_period
from dashboards.selectors import Names, dashboard_data
from dashboards.services import rollup_refresh

pytestmark = pytest.mark.django_db


def test_demo_history_fills_every_panel() -> None:
    call_command("seed_demo", stdout=None)
    rollup_refresh()
    data = dashboard_data(
        scope=Scope(team_ids=None),
        period=preset_period("30d", timezone.localdate()),
        filters=Filters(),
        names=Names.load(),
    )
    headline = {row["figure"]: row["value"] for row in data.headline.records()}
    assert headline["opened"] > 60
    assert 0 < headline["response_compliance"] < 100
    assert 0 < headline["resolution_compliance"] < 100
    assert headline["reopened"] > 0
    busy_days = [row for row in data.table("volume").records() if row["total"]]
    assert len(busy_days) >= 25
    assert {row["priority"] for row in data.table("times").records()} == {1, 2, 3, 4}
    assert data.table("noise").records()
    communication = {
        r["figure"]: r["value"] for r in data.table("communication").records()
    }
    assert communication["updates_due"] > 0
    assert sum(row["total"] for row in data.table("backlog").records()) > 0
