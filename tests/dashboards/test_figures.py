"""Every figure of the dashboard against the hand-worked week (conftest.week)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from dashboards.access import Scope
from dashboards.forms import Filters, Period
from dashboards.selectors import Dashboard, Names, dashboard_data
from dashboards.services import rollup_rebuild, rollup_refresh
from incidents.sla.sweep import sla_sweep
from tests.dashboards.conftest import NOW, at

pytestmark = pytest.mark.django_db

WEEK = Period(date(2026, 3, 2), date(2026, 3, 8), "week")
EVERY_TEAM = Scope(team_ids=None)


def read(
    filters: Filters | None = None, scope: Scope = EVERY_TEAM, period: Period = WEEK
) -> Dashboard:
    return dashboard_data(
        scope=scope, period=period, filters=filters or Filters(), names=Names.load()
    )


def values(data: Dashboard, table: str) -> dict[Any, dict[str, Any]]:
    """A table's rows by their first column's value."""
    records = data.table(table).records()
    first = data.table(table).columns[0].key
    return {record[first]: record for record in records}


def headline(data: Dashboard) -> dict[str, Any]:
    return {key: row["value"] for key, row in values(data, "headline").items()}


def test_headline_figures(refreshed: SimpleNamespace) -> None:
    assert headline(read()) == {
        "opened": 6,
        "response_compliance": 40.0,  # 2 met (A, C) of 5 (B, D, F missed)
        "resolution_compliance": 50.0,  # 2 met (A, C) of 4 (B, D missed)
        "breaching_now": 2,  # D, F
        "open_now": 2,
        "reopened": 1,  # B
        "reopen_rate": 16.7,  # 1 of 6
        "known_error": 1,  # C
    }


def test_compliance_by_priority(refreshed: SimpleNamespace) -> None:
    rows = values(read(), "compliance_priority")
    assert {p: (r["response_met"], r["response_missed"]) for p, r in rows.items()} == {
        1: (0, 2),  # B, D
        3: (2, 1),  # A, C met; F missed
    }
    assert {
        p: (r["resolution_met"], r["resolution_missed"]) for p, r in rows.items()
    } == {
        1: (0, 2),  # B, D
        3: (2, 0),  # A, C (F not decided yet)
    }
    assert rows[3]["response_percent"] == 66.7
    assert rows[1]["resolution_percent"] == 0.0


def test_compliance_by_service_counts_only_incidents_naming_it(
    refreshed: SimpleNamespace,
) -> None:
    rows = values(read(), "compliance_service")
    assert rows == {
        refreshed.people.service.pk: {
            "name": refreshed.people.service.pk,
            "response_met": 1,
            "response_missed": 0,
            "response_percent": 100.0,
            "resolution_met": 1,
            "resolution_missed": 0,
            "resolution_percent": 100.0,
        }
    }


def test_times_in_sla_time_of_each_priority(refreshed: SimpleNamespace) -> None:
    rows = values(read(), "times")
    assert rows[1] == {
        "priority": 1,
        "calendar": "24x7: real time",
        "acknowledged": 1,
        "mtta_mean_seconds": 20 * 60,  # B
        "mtta_p50_max_seconds": 20 * 60,
        "mtta_p90_max_seconds": 20 * 60,
        "resolved": 1,
        "mttr_mean_seconds": 4 * 3600 + 30 * 60,  # B, across its reopen
        "mttr_p50_max_seconds": 6 * 3600,
        "mttr_p90_max_seconds": 6 * 3600,
    }
    assert rows[3] == {
        "priority": 3,
        "calendar": "Office hours: business time",
        "acknowledged": 2,
        "mtta_mean_seconds": (5400 + 3600) // 2,  # A 1 h 30 m, C 1 h
        "mtta_p50_max_seconds": 3600,
        "mtta_p90_max_seconds": 5400,
        "resolved": 2,
        "mttr_mean_seconds": (3 * 3600 + 5 * 3600) // 2,  # A (paused 4 h), C
        "mttr_p50_max_seconds": 3 * 3600,
        "mttr_p90_max_seconds": 6 * 3600,
    }


def test_volume_per_day(refreshed: SimpleNamespace) -> None:
    rows = values(read(), "volume")
    assert rows["2026-03-02"] == {
        "start": "2026-03-02",
        "p1": 2,  # B, D
        "p2": 0,
        "p3": 3,  # A, C, F
        "p4": 1,  # E
        "p0": 0,
        "alert": 1,
        "portal": 0,
        "agent": 5,
        "total": 6,
    }
    assert sum(row["total"] for row in rows.values()) == 6
    assert len(rows) == 7


def test_backlog_by_age(refreshed: SimpleNamespace) -> None:
    rows = values(read(), "backlog")
    assert rows["1-3 days"]["p1"] == 1  # D
    assert rows["1-3 days"]["p3"] == 1  # F
    assert [row["total"] for row in rows.values()] == [0, 2, 0, 0, 0]


def test_communication(refreshed: SimpleNamespace) -> None:
    rows = values(read(), "communication")
    assert rows["update_overdue"]["value"] == 1  # D
    assert rows["updates_due"]["value"] == 2
    assert rows["updates_on_time"]["value"] == 50.0  # 12:20 on time, 13:00 late


def test_alert_noise(refreshed: SimpleNamespace) -> None:
    data = read()
    assert data.table("noise").records() == [
        {"signature": "Prometheus: Disk full", "alerts": 1, "occurrences": 3}
    ]
    assert "3 on 1 incidents" in data.table("noise").note


def test_filters_narrow_every_figure(refreshed: SimpleNamespace) -> None:
    assert headline(read(Filters(priority=1)))["opened"] == 2
    assert headline(read(Filters(source="alert")))["opened"] == 1
    assert headline(read(Filters(service=refreshed.people.service.pk)))["opened"] == 1
    assert headline(read(Filters(team=refreshed.people.other.pk)))["opened"] == 0


def test_an_agents_scope_is_their_teams(refreshed: SimpleNamespace) -> None:
    other = Scope(team_ids=frozenset({refreshed.people.other.pk}))
    own = Scope(team_ids=frozenset({refreshed.people.team.pk}))
    assert headline(read(scope=other))["opened"] == 0
    assert headline(read(scope=own))["opened"] == 6


def test_a_period_without_the_incidents_shows_none(refreshed: SimpleNamespace) -> None:
    later = Period(date(2026, 3, 3), date(2026, 3, 8), "later")
    figures = headline(read(period=later))
    assert figures["opened"] == 0
    # Decided on Tuesday: A's response and resolution, B's resolution.
    assert figures["response_compliance"] == 100.0
    assert figures["resolution_compliance"] == 50.0


def test_the_sweep_recording_breaches_changes_no_figure(
    refreshed: SimpleNamespace,
) -> None:
    before = {name: read().table(name).records() for name in ("headline", "times")}
    sla_sweep(now=NOW)
    rollup_refresh(now=NOW)
    after = {name: read().table(name).records() for name in ("headline", "times")}
    assert before == after


def test_refreshing_twice_changes_nothing(refreshed: SimpleNamespace) -> None:
    before = {name: table.records() for name, table in read().tables.items()}
    rollup_refresh(now=NOW)
    assert {name: t.records() for name, t in read().tables.items()} == before


def test_a_rebuild_gives_the_same_figures(refreshed: SimpleNamespace) -> None:
    before = {name: table.records() for name, table in read().tables.items()}
    rollup_rebuild(now=NOW)
    assert {name: t.records() for name, t in read().tables.items()} == before


def test_time_passing_is_taken_up_without_a_write(week: SimpleNamespace) -> None:
    """F's resolution is due Wed 17:00: read after that, it is missed."""
    rollup_refresh(now=NOW)
    assert values(read(), "compliance_priority")[3]["resolution_missed"] == 0
    rollup_refresh(now=at(2, 17, 1))
    assert values(read(), "compliance_priority")[3]["resolution_missed"] == 1


def test_a_write_is_taken_up_at_the_next_refresh(refreshed: SimpleNamespace) -> None:
    from incidents import services

    services.incident_triage(
        incident=refreshed.f,
        by=refreshed.people.agent,
        category=refreshed.people.category,
        impact="medium",
        urgency="medium",
        now=at(2, 12, 5),
    )
    services.incident_start_work(
        incident=refreshed.f, by=refreshed.people.agent, now=at(2, 12, 5)
    )
    rollup_refresh(now=at(2, 12, 6))
    figures = headline(read())
    assert figures["breaching_now"] == 1  # D only: F's response was acknowledged
    assert figures["response_compliance"] == 40.0  # F's miss stays a miss
