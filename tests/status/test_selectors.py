"""What the status page says: which services and incidents, in which state."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from incidents import services
from incidents.status.selectors import (
    HISTORY_DAYS,
    status_cache_clear,
    status_page,
    status_page_compute,
)
from tests.status.conftest import major, post, resolve

pytestmark = pytest.mark.django_db


def _states(content: dict[str, Any]) -> dict[str, str]:
    return {row["name"]: row["state"] for row in content["services"]}


def test_service_state_is_outage_for_open_p1_and_degraded_for_open_p2(
    desk: SimpleNamespace,
) -> None:
    major(desk, priority=1, on=[desk.email])
    major(desk, priority=2, on=[desk.web], title="Website slow")
    content = status_page_compute(now=timezone.now())
    assert _states(content) == {"Email": "outage", "Website": "degraded"}
    assert (content["state"], content["state_label"]) == ("outage", "Major outage")


def test_worst_open_incident_sets_the_service_state(desk: SimpleNamespace) -> None:
    major(desk, priority=2, on=[desk.email], title="Mail slow")
    major(desk, priority=1, on=[desk.email], title="Mail down")
    assert _states(status_page_compute(now=timezone.now()))["Email"] == "outage"


def test_minor_incidents_change_nothing(desk: SimpleNamespace) -> None:
    major(desk, priority=3, on=[desk.email])
    content = status_page_compute(now=timezone.now())
    assert _states(content) == {"Email": "operational", "Website": "operational"}
    assert content["state_label"] == "All systems operational"
    assert content["current"] == [] and content["history"] == []


def test_open_p1_is_current_with_its_public_updates_newest_first(
    desk: SimpleNamespace,
) -> None:
    now = timezone.now()
    incident = major(desk, at=now - timedelta(hours=2))
    post(desk, incident, "We are looking into it.", at=now - timedelta(minutes=90))
    post(desk, incident, "Relay disk full.", public=False, at=now - timedelta(hours=1))
    post(desk, incident, "Fix under way.", at=now - timedelta(minutes=30))
    [shown] = status_page_compute(now=now)["current"]
    assert shown["number"] == incident.number
    assert (shown["title"], shown["priority"], shown["impact"]) == (
        "Mail is down",
        "P1",
        "outage",
    )
    assert shown["services"] == ["Email"]
    assert shown["started_at"] == now - timedelta(hours=2)
    assert shown["resolved_at"] is None
    assert [u["body"] for u in shown["updates"]] == [
        "Fix under way.",
        "We are looking into it.",
    ]


def test_resolved_incident_moves_from_current_to_history(
    desk: SimpleNamespace,
) -> None:
    now = timezone.now()
    incident = major(desk, at=now - timedelta(hours=2))
    post(desk, incident, "Fixed; watching.", at=now - timedelta(minutes=10))
    resolve(desk, incident, at=now - timedelta(minutes=5))
    content = status_page_compute(now=now)
    assert content["current"] == []
    [shown] = content["history"]
    assert shown["number"] == incident.number
    assert shown["resolved_at"] == now - timedelta(minutes=5)
    assert [u["body"] for u in shown["updates"]] == ["Fixed; watching."]
    assert _states(content)["Email"] == "operational"


def test_reopened_incident_is_current_again(desk: SimpleNamespace) -> None:
    incident = major(desk)
    resolve(desk, incident)
    services.incident_reopen(incident=incident, by=desk.agent, reason="Down again.")
    content = status_page_compute(now=timezone.now())
    assert [i["number"] for i in content["current"]] == [incident.number]
    assert content["history"] == []


def test_closed_incident_stays_in_history(desk: SimpleNamespace) -> None:
    incident = major(desk)
    resolve(desk, incident)
    services.incident_confirm(incident=incident, by=desk.requester)
    content = status_page_compute(now=timezone.now())
    assert [i["number"] for i in content["history"]] == [incident.number]


def test_history_keeps_the_last_30_days_only(desk: SimpleNamespace) -> None:
    start = timezone.now() - timedelta(days=HISTORY_DAYS + 5)
    old = major(desk, title="Old outage", at=start)
    resolve(desk, old, at=start + timedelta(hours=1))
    recent = major(desk, title="Recent outage", at=start + timedelta(days=10))
    resolve(desk, recent, at=start + timedelta(days=10, hours=1))
    content = status_page_compute(now=timezone.now())
    assert [i["title"] for i in content["history"]] == ["Recent outage"]


def test_incident_on_internal_service_only_is_not_shown(
    desk: SimpleNamespace,
) -> None:
    major(desk, on=[desk.internal], title="Backup robot stuck")
    major(desk, on=[], title="No service named")
    content = status_page_compute(now=timezone.now())
    assert content["current"] == []
    assert "Backup robot" not in _states(content)


def test_internal_service_is_left_out_of_an_incident_on_both(
    desk: SimpleNamespace,
) -> None:
    major(desk, on=[desk.email, desk.internal])
    [shown] = status_page_compute(now=timezone.now())["current"]
    assert shown["services"] == ["Email"]


def test_cancelled_and_merged_incidents_are_not_shown(desk: SimpleNamespace) -> None:
    cancelled = services.incident_log(
        by=desk.agent,
        title="Not an outage",
        source="agent",
        services=[desk.email],
        impact="high",
        urgency="high",
    )
    services.incident_cancel(incident=cancelled, by=desk.agent, reason="Test alert")
    survivor = major(desk, title="Mail is down")
    duplicate = major(desk, title="Mail down again")
    services.incident_merge(incident=duplicate, into=survivor, by=desk.agent)
    content = status_page_compute(now=timezone.now())
    assert [i["number"] for i in content["current"]] == [survivor.number]
    assert content["history"] == []


def test_each_day_has_the_worst_state_of_the_incidents_that_ran_on_it(
    desk: SimpleNamespace,
) -> None:
    now = timezone.now()
    # A P2 that ran five to four days ago, and a P1 on the same service three days ago.
    p2 = major(desk, priority=2, at=now - timedelta(days=5))
    resolve(desk, p2, at=now - timedelta(days=4))
    p1 = major(desk, priority=1, on=[desk.email, desk.web], at=now - timedelta(days=3))
    resolve(desk, p1, at=now - timedelta(days=3) + timedelta(minutes=30))
    content = status_page_compute(now=now)
    email = next(row for row in content["services"] if row["name"] == "Email")
    days = {day["date"]: day for day in email["days"]}
    today = timezone.localdate(now)
    assert len(days) == HISTORY_DAYS and max(days) == today
    assert days[today - timedelta(days=5)]["state"] == "degraded"
    assert days[today - timedelta(days=4)]["incidents"] == [p2.number]
    assert days[today - timedelta(days=3)]["state"] == "outage"
    assert days[today - timedelta(days=3)]["incidents"] == [p1.number]
    assert days[today - timedelta(days=2)]["state"] == "operational"
    assert days[today]["state"] == "operational"
    website = next(row for row in content["services"] if row["name"] == "Website")
    assert [d["state"] for d in website["days"]].count("outage") == 1


def test_an_open_incident_colours_every_day_up_to_today(desk: SimpleNamespace) -> None:
    now = timezone.now()
    major(desk, priority=2, at=now - timedelta(days=2))
    email = status_page_compute(now=now)["services"][0]
    assert [d["state"] for d in email["days"][-3:]] == ["degraded"] * 3
    assert email["days"][-4]["state"] == "operational"


@pytest.mark.parametrize("incidents", [1, 8])
def test_computing_costs_four_queries_whatever_the_size(
    desk: SimpleNamespace, django_assert_num_queries: Any, incidents: int
) -> None:
    for n in range(incidents):
        incident = major(desk, on=[desk.email, desk.web, desk.internal])
        for m in range(n % 3 + 1):
            post(desk, incident, f"Update {m}")
        if n % 2:
            resolve(desk, incident)
    # public services, incidents, their public services, their public updates
    with django_assert_num_queries(4):
        content = status_page_compute(now=timezone.now())
    assert len(content["current"]) + len(content["history"]) == incidents


def test_cached_content_is_served_until_the_cache_is_cleared(
    desk: SimpleNamespace, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.STATUS_CACHE_SECONDS = 30
    first = status_page()
    major(desk)
    with django_assert_num_queries(0):
        assert status_page() == first
    status_cache_clear()
    assert len(status_page()["current"]) == 1


def test_no_cache_with_zero_seconds(desk: SimpleNamespace, settings: Any) -> None:
    settings.STATUS_CACHE_SECONDS = 0
    assert status_page()["current"] == []
    major(desk)
    assert len(status_page()["current"]) == 1
